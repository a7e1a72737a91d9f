//! The session bus: who is online where, the per-account multi-device
//! decision, and delivery of pushes to connections, on one node or several.
//!
//! - [`ConnTable`]: this node's connections (connection id → bounded push
//!   queue, [`Outbox`]). It never leaves the process.
//! - [`SessionDirectory`]: the accounts' online devices, each addressed
//!   globally as a [`DeviceAddr`] (node, connection). Every decision for an
//!   account (attach under the multi-device policy, detach, kick) is made
//!   by the pure [`AccountSessions`] core while the directory holds that
//!   account exclusively, so two logins of one account never decide from
//!   the same stale view, whatever the implementation.
//! - [`Router`]: delivers the resulting [`Envelope`]s (kick-out, multispot,
//!   replacement; later messages), a serialisable, versioned type, to the
//!   connection they name, locally or on another node.
//! - [`Bus`]: one node's table, directory and router used together.
//!
//! [`LocalDirectory`] and [`LocalRouter`] are the in-process pair;
//! [`MemoryNetwork`] connects several nodes in one process through encoded
//! envelopes. Every pair runs [`bus_conformance_suite!`].
//!
//! Delivery never waits for a connection: a full queue means a slow reader,
//! and the connection is asked to close instead.

mod account;
mod addr;
mod bus;
pub mod conformance;
mod conns;
mod directory;
mod envelope;
mod outbox;
pub mod policy;
mod router;

pub use account::{AccountSessions, Attach, KickTarget, Kicked, Session};
pub use addr::{AccountKey, ConnId, DeviceAddr, NodeId};
pub use bus::Bus;
pub use conns::ConnTable;
pub use directory::{LocalDirectory, SessionDirectory};
pub use envelope::{Envelope, EnvelopeError, Push, ENVELOPE_VERSION};
pub use outbox::{outbox, Closer, Outbox, OutboxReceiver, Queued};
pub use router::{LocalRouter, MemoryNetwork, MemoryRouter, Router};

/// Why the bus could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The directory cannot be reached or did not answer.
    #[error("session directory unavailable: {0}")]
    Unavailable(String),
    /// An envelope names a node this router cannot reach.
    #[error("no route to node {0}")]
    UnknownNode(NodeId),
    /// An envelope could not be encoded or decoded.
    #[error("bad envelope: {0}")]
    Envelope(String),
}
