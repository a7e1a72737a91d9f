use magpie_proto::types::Kickout;
use magpie_proto::ServerFrame;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// What a connection task receives from outside.
#[derive(Debug)]
pub enum Delivery {
    /// A push to write.
    Frame(Box<ServerFrame>),
    /// Write the kick-out push, then close.
    Kick(Box<Kickout>),
    /// The same device logged in on another connection: close without a word.
    Replaced,
}

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

/// The sending side of a connection's bounded queue.
#[derive(Clone, Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Delivery>,
    closer: Arc<Closer>,
}

/// The receiving side, owned by the connection task.
#[derive(Debug)]
pub struct OutboxReceiver {
    /// Deliveries.
    pub rx: mpsc::Receiver<Delivery>,
    /// Close signal.
    pub closer: Arc<Closer>,
}

/// A bounded outbox of `capacity` deliveries.
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
    /// Queues a delivery without waiting. A full queue closes the connection
    /// (slow reader) and returns false; so does a connection already gone.
    pub fn deliver(&self, d: Delivery) -> bool {
        match self.tx.try_send(d) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.closer.close();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
