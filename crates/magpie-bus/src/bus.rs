//! A node's view of the bus: its connection table, the session directory
//! and a router, used together.

use crate::account::{Attach, KickTarget, Kicked, Session};
use crate::addr::{AccountKey, DeviceAddr, NodeId};
use crate::conns::ConnTable;
use crate::directory::{LocalDirectory, SessionDirectory};
use crate::envelope::{Envelope, Push};
use crate::policy::Rules;
use crate::router::{LocalRouter, Router};
use crate::BusError;
use magpie_proto::types::{Kickout, Presence};
use std::sync::Arc;

/// One node's directory, router and connection table. Each operation asks
/// the directory for the decision, then routes the resulting envelopes;
/// an envelope that cannot be routed (its node is gone) is logged and
/// skipped, since the decision stands. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    /// This node's connections.
    pub conns: Arc<ConnTable>,
    /// The session directory (possibly shared with other nodes).
    pub directory: Arc<dyn SessionDirectory>,
    /// The router to every node's connections.
    pub router: Arc<dyn Router>,
}

impl Bus {
    /// A single node with the in-process directory and router.
    pub fn in_process(node: NodeId) -> Bus {
        let conns = Arc::new(ConnTable::new(node));
        Bus {
            router: Arc::new(LocalRouter::new(conns.clone())),
            directory: Arc::new(LocalDirectory::new()),
            conns,
        }
    }

    /// This node.
    pub fn node(&self) -> NodeId {
        self.conns.node()
    }

    async fn route(&self, notices: Vec<Envelope>) {
        if notices.is_empty() {
            return;
        }
        if let Err(e) = self.router.deliver(notices).await {
            tracing::warn!(error = %e, "a push could not be routed");
        }
    }

    /// Attaches a logged-in connection ([`SessionDirectory::attach`]) and
    /// routes the kicks, replacement and multispot notices.
    pub async fn attach(
        &self,
        key: &AccountKey,
        addr: DeviceAddr,
        presence: Presence,
        rules: &Rules,
    ) -> Result<Attach, BusError> {
        let (out, notices) = self.directory.attach(key, addr, presence, rules).await?;
        self.route(notices).await;
        Ok(out)
    }

    /// Detaches a connection; false when it was no longer attached.
    pub async fn detach(&self, key: &AccountKey, addr: DeviceAddr) -> Result<bool, BusError> {
        match self.directory.detach(key, addr).await? {
            Some(notices) => {
                self.route(notices).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Kicks devices of an account, never `except`.
    pub async fn kick(
        &self,
        key: &AccountKey,
        target: &KickTarget,
        why: &Kickout,
        except: Option<DeviceAddr>,
    ) -> Result<Kicked, BusError> {
        let (out, notices) = self.directory.kick(key, target, why, except).await?;
        self.route(notices).await;
        Ok(out)
    }

    /// Tells every online device of the account but `except` (the device
    /// that made the change) something that changed.
    pub async fn tell_others(
        &self,
        key: &AccountKey,
        except: DeviceAddr,
        push: Push,
    ) -> Result<(), BusError> {
        let notices = self
            .directory
            .devices(key)
            .await?
            .into_iter()
            .filter(|a| *a != except)
            .map(|a| Envelope::new(a, push.clone()))
            .collect();
        self.route(notices).await;
        Ok(())
    }

    /// The account's online devices, oldest first.
    pub async fn online(&self, key: &AccountKey) -> Result<Vec<Session>, BusError> {
        self.directory.online(key).await
    }

    /// Sessions the directory holds on this node.
    pub async fn local_sessions(&self) -> Result<usize, BusError> {
        self.directory.sessions_on(self.node()).await
    }
}
