//! Who and where: accounts, nodes, and the global address of a device's
//! connection.

use magpie_store::AccountId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An account, scoped by app.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountKey {
    /// The app's internal id.
    pub app_id: i64,
    /// The account id.
    pub accid: AccountId,
}

impl AccountKey {
    /// A key for an account of an app.
    pub fn new(app_id: i64, accid: AccountId) -> Self {
        AccountKey { app_id, accid }
    }
}

/// One server process of a deployment. Random at start unless configured;
/// unique among the nodes that share a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u64);

impl NodeId {
    /// A random node id.
    pub fn random() -> NodeId {
        NodeId(rand::random())
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A connection on one node. Unique only on that node: anything that leaves
/// the node carries a [`DeviceAddr`] instead.
pub type ConnId = u64;

/// The global address of one device's connection: its node and its
/// connection id there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceAddr {
    /// The node holding the connection.
    pub node: NodeId,
    /// The connection on that node.
    pub conn: ConnId,
}

impl fmt::Display for DeviceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.node, self.conn)
    }
}
