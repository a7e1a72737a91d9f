//! The node-local connection table: connection id → push queue. It never
//! leaves the process; routers deliver into it.

use crate::addr::{ConnId, DeviceAddr, NodeId};
use crate::envelope::Push;
use crate::outbox::{outbox, Outbox, OutboxReceiver, Queued};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const SHARDS: usize = 16;

/// The connections of one node.
pub struct ConnTable {
    node: NodeId,
    next: AtomicU64,
    count: AtomicUsize,
    shards: Vec<Mutex<HashMap<ConnId, Outbox>>>,
}

impl ConnTable {
    /// An empty table of node `node`.
    pub fn new(node: NodeId) -> ConnTable {
        ConnTable {
            node,
            next: AtomicU64::new(1),
            count: AtomicUsize::new(0),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// The node this table belongs to.
    pub fn node(&self) -> NodeId {
        self.node
    }

    fn shard(&self, conn: ConnId) -> &Mutex<HashMap<ConnId, Outbox>> {
        &self.shards[(conn as usize) % SHARDS]
    }

    /// Registers a new connection with a push queue of `capacity`; returns
    /// its address and the receiving side for its task. Pair with
    /// [`ConnTable::close`].
    pub fn open(&self, capacity: usize) -> (DeviceAddr, OutboxReceiver) {
        let conn = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = outbox(capacity);
        self.shard(conn).lock().insert(conn, tx);
        self.count.fetch_add(1, Ordering::Relaxed);
        (
            DeviceAddr {
                node: self.node,
                conn,
            },
            rx,
        )
    }

    /// Forgets a connection.
    pub fn close(&self, conn: ConnId) {
        if self.shard(conn).lock().remove(&conn).is_some() {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Queues a push for a connection of this node.
    pub fn push(&self, conn: ConnId, p: Push) -> Queued {
        match self.shard(conn).lock().get(&conn) {
            Some(tx) => tx.push(p),
            None => Queued::Gone,
        }
    }

    /// Connections registered now.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// True when no connection is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_closes_the_connection_instead_of_waiting() {
        let t = ConnTable::new(NodeId(3));
        let (addr, mut rx) = t.open(1);
        assert_eq!(addr.node, NodeId(3));
        assert_eq!(t.push(addr.conn, Push::Replaced), Queued::Yes);
        assert_eq!(t.push(addr.conn, Push::Replaced), Queued::Overflow);
        assert!(rx.closer.is_closed());
        assert_eq!(rx.rx.try_recv().unwrap(), Push::Replaced);
        assert_eq!(t.len(), 1);
        t.close(addr.conn);
        assert_eq!(t.push(addr.conn, Push::Replaced), Queued::Gone);
        assert!(t.is_empty());
    }
}
