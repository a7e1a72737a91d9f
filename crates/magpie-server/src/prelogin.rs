//! Connections that have not logged in, counted per IP address: a source
//! may hold at most `max_pre_login_per_ip` of them, so a crowd of
//! credential-less connections from one place cannot take the slots real
//! logins need. A connection leaves the count when it logs in or closes.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// The per-IP count.
pub struct PreLogin {
    max: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in the count; dropping it (or [`Slot::release`])
/// gives it back.
pub struct Slot {
    owner: Option<(Arc<crate::state::Shared>, IpAddr)>,
}

impl PreLogin {
    /// At most `max` per address.
    pub fn new(max: usize) -> Self {
        PreLogin {
            max,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a new connection from `ip`, or None when the address holds
    /// its maximum already.
    pub fn enter(shared: &Arc<crate::state::Shared>, ip: IpAddr) -> Option<Slot> {
        let me = &shared.pre_login;
        let mut counts = me.counts.lock();
        let n = counts.entry(ip).or_insert(0);
        if *n >= me.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: Some((shared.clone(), ip)),
        })
    }

    fn leave(&self, ip: IpAddr) {
        let mut counts = self.counts.lock();
        if let Some(n) = counts.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&ip);
            }
        }
    }

    /// Connections from `ip` that have not logged in.
    pub fn count(&self, ip: IpAddr) -> usize {
        self.counts.lock().get(&ip).copied().unwrap_or(0)
    }
}

impl Slot {
    /// Leaves the count (the connection logged in); later calls do nothing.
    pub fn release(&mut self) {
        if let Some((shared, ip)) = self.owner.take() {
            shared.pre_login.leave(ip);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}
