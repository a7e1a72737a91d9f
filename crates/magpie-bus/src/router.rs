//! Routers: how an envelope reaches the connection it names, on this node or
//! another.

use crate::addr::NodeId;
use crate::conns::ConnTable;
use crate::envelope::Envelope;
use crate::outbox::Queued;
use crate::BusError;
use async_trait::async_trait;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// Delivers envelopes to connections addressed globally by
/// [`DeviceAddr`](crate::DeviceAddr). Delivery never waits for a
/// connection: a full queue closes it (a slow reader), and a connection
/// that is gone is skipped. An error means some envelope could not be
/// handed to its node; the others were still delivered.
#[async_trait]
pub trait Router: Send + Sync + 'static {
    /// Delivers each envelope, in order.
    async fn deliver(&self, envelopes: Vec<Envelope>) -> Result<(), BusError>;
}

/// Hands an envelope to a connection of `conns`' own node.
fn local(conns: &ConnTable, e: Envelope) -> Queued {
    let q = conns.push(e.to.conn, e.push);
    if q == Queued::Overflow {
        tracing::info!(to = %e.to, "push queue full: closing a slow reader");
    }
    q
}

/// The router of a single node: every connection is in its own table.
pub struct LocalRouter {
    conns: Arc<ConnTable>,
}

impl LocalRouter {
    /// A router into `conns`.
    pub fn new(conns: Arc<ConnTable>) -> LocalRouter {
        LocalRouter { conns }
    }
}

#[async_trait]
impl Router for LocalRouter {
    async fn deliver(&self, envelopes: Vec<Envelope>) -> Result<(), BusError> {
        let mut result = Ok(());
        for e in envelopes {
            if e.to.node == self.conns.node() {
                local(&self.conns, e);
            } else {
                result = Err(BusError::UnknownNode(e.to.node));
            }
        }
        result
    }
}

/// Several nodes in one process, connected through memory: each envelope
/// for another node is encoded to bytes and decoded there, as a network
/// transport would do. A test double for a networked router (the
/// directory/router conformance suite runs two nodes over it), and a way to
/// run several nodes in one process.
#[derive(Default)]
pub struct MemoryNetwork {
    nodes: RwLock<HashMap<NodeId, Arc<ConnTable>>>,
}

impl MemoryNetwork {
    /// An empty network.
    pub fn new() -> Arc<MemoryNetwork> {
        Arc::new(MemoryNetwork::default())
    }

    /// Joins a node's connection table to the network; returns that node's router.
    pub fn join(self: &Arc<Self>, conns: Arc<ConnTable>) -> MemoryRouter {
        self.nodes.write().insert(conns.node(), conns.clone());
        MemoryRouter {
            net: self.clone(),
            conns,
        }
    }

    /// Takes a node off the network (as if it died).
    pub fn leave(&self, node: NodeId) {
        self.nodes.write().remove(&node);
    }
}

/// One node's router on a [`MemoryNetwork`].
pub struct MemoryRouter {
    net: Arc<MemoryNetwork>,
    conns: Arc<ConnTable>,
}

#[async_trait]
impl Router for MemoryRouter {
    async fn deliver(&self, envelopes: Vec<Envelope>) -> Result<(), BusError> {
        let mut result = Ok(());
        for e in envelopes {
            if e.to.node == self.conns.node() {
                local(&self.conns, e);
                continue;
            }
            let Some(there) = self.net.nodes.read().get(&e.to.node).cloned() else {
                result = Err(BusError::UnknownNode(e.to.node));
                continue;
            };
            // Over the "wire": bytes out, bytes in.
            match Envelope::decode(&e.encode()) {
                Ok(e) => {
                    local(&there, e);
                }
                Err(err) => result = Err(BusError::Envelope(err.to_string())),
            }
        }
        result
    }
}
