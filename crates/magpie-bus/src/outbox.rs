use crate::envelope::Push;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// The close signal of a connection, raised when its queue overflows.
#[derive(Debug, Default)]
pub struct Closer {
    closed: AtomicBool,
    notify: Notify,
}

impl Closer {
    /// Asks the connection to close.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// True once close was asked.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Completes when close is asked.
    pub async fn closed(&self) {
        if self.is_closed() {
            return;
        }
        self.notify.notified().await;
    }
}

/// The sending side of a connection's bounded push queue. It never leaves
/// its node: other nodes reach the connection through a router and its
/// [`DeviceAddr`](crate::DeviceAddr).
#[derive(Clone, Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Push>,
    closer: Arc<Closer>,
}

/// The receiving side, owned by the connection task.
#[derive(Debug)]
pub struct OutboxReceiver {
    /// Pushes.
    pub rx: mpsc::Receiver<Push>,
    /// Close signal.
    pub closer: Arc<Closer>,
}

/// What became of a push handed to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// In the connection's queue.
    Yes,
    /// The queue was full: the connection is asked to close (slow reader).
    Overflow,
    /// The connection is gone.
    Gone,
}

/// A bounded outbox of `capacity` pushes.
pub fn outbox(capacity: usize) -> (Outbox, OutboxReceiver) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let closer = Arc::new(Closer::default());
    (
        Outbox {
            tx,
            closer: closer.clone(),
        },
        OutboxReceiver { rx, closer },
    )
}

impl Outbox {
    /// Queues a push without waiting. A full queue closes the connection
    /// (slow reader): it is never waited for.
    pub fn push(&self, p: Push) -> Queued {
        match self.tx.try_send(p) {
            Ok(()) => Queued::Yes,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.closer.close();
                Queued::Overflow
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Queued::Gone,
        }
    }
}
