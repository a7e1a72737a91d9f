//! The node-local connection table: connection id → push queue. It never
//! leaves the process; routers deliver into it.

use crate::addr::{ConnId, DeviceAddr, NodeId};
use crate::envelope::Push;
use crate::outbox::{outbox, Outbox, OutboxReceiver, Queued};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const SHARDS: usize = 16;

/// One place in the table; its generation tells a connection id that was
/// closed from the one that reuses the place.
struct Slot {
    generation: u32,
    outbox: Option<Outbox>,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

/// The connections of one node: a slab per shard, so opening, closing and
/// pushing never hash. A connection id is the slot's generation (high 32
/// bits) and its place (low 32 bits: the index in the shard times the
/// number of shards, plus the shard).
pub struct ConnTable {
    node: NodeId,
    next: AtomicU64,
    count: AtomicUsize,
    shards: Vec<Mutex<Shard>>,
}

fn place(conn: ConnId) -> (usize, usize, u32) {
    let low = (conn & 0xffff_ffff) as usize;
    (low % SHARDS, low / SHARDS, (conn >> 32) as u32)
}

impl ConnTable {
    /// An empty table of node `node`.
    pub fn new(node: NodeId) -> ConnTable {
        ConnTable {
            node,
            next: AtomicU64::new(0),
            count: AtomicUsize::new(0),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// The node this table belongs to.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Registers a new connection with a push queue of `capacity`; returns
    /// its address and the receiving side for its task. Pair with
    /// [`ConnTable::close`].
    pub fn open(&self, capacity: usize) -> (DeviceAddr, OutboxReceiver) {
        let s = (self.next.fetch_add(1, Ordering::Relaxed) as usize) % SHARDS;
        let (tx, rx) = outbox(capacity);
        let mut shard = self.shards[s].lock();
        let index = match shard.free.pop() {
            Some(i) => i as usize,
            None => {
                shard.slots.push(Slot {
                    generation: 0,
                    outbox: None,
                });
                shard.slots.len() - 1
            }
        };
        let slot = &mut shard.slots[index];
        slot.outbox = Some(tx);
        let low = (index * SHARDS + s) as u64;
        let conn = (u64::from(slot.generation) << 32) | low;
        drop(shard);
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
        let (s, index, generation) = place(conn);
        let mut shard = self.shards[s].lock();
        let Some(slot) = shard.slots.get_mut(index) else {
            return;
        };
        if slot.generation != generation || slot.outbox.take().is_none() {
            return;
        }
        slot.generation = slot.generation.wrapping_add(1);
        shard.free.push(index as u32);
        drop(shard);
        self.count.fetch_sub(1, Ordering::Relaxed);
    }

    /// Queues a push for a connection of this node.
    pub fn push(&self, conn: ConnId, p: Push) -> Queued {
        let (s, index, generation) = place(conn);
        let shard = self.shards[s].lock();
        match shard.slots.get(index) {
            Some(Slot {
                generation: g,
                outbox: Some(tx),
            }) if *g == generation => tx.push(p),
            _ => Queued::Gone,
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
        // Places are reused, ids are not: a stale id reaches nothing.
        let ids: Vec<_> = (0..40).map(|_| t.open(4)).collect();
        assert!(ids.iter().all(|(a, _)| a.conn != addr.conn));
        let mut seen: Vec<_> = ids.iter().map(|(a, _)| a.conn).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 40);
        assert_eq!(t.push(addr.conn, Push::Replaced), Queued::Gone);
        for (a, _) in &ids {
            assert_eq!(t.push(a.conn, Push::Replaced), Queued::Yes);
        }
        t.close(addr.conn);
        assert_eq!(t.len(), 40, "closing a stale id changes nothing");
    }
}
