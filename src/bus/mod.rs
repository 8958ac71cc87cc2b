//! Event bus implementations. One node uses [`InProcessBus`]; a later change
//! adds Redis and NATS buses behind the same [`EventBus`] trait so that
//! events reach sessions on every node.
//!
//! Must not import `api`, `ws` or `apub`.

use crate::chat::events::{ChatEvent, EventBus};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it is told it
/// lagged (and must catch up from the database).
const CAPACITY: usize = 4096;

/// Delivers events to subscribers in this process only.
pub struct InProcessBus {
    sender: broadcast::Sender<ChatEvent>,
}

impl InProcessBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self { sender }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, event: ChatEvent) {
        // No subscriber is not an error: nobody is listening right now.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<ChatEvent> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::UserId;

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let bus = InProcessBus::new();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        let (u1, u2) = (UserId::new(), UserId::new());
        bus.publish(ChatEvent::UserCreated { user: u1 });
        bus.publish(ChatEvent::UserDeleted { user: u2 });
        for rx in [&mut a, &mut b] {
            assert_eq!(
                rx.recv().await.unwrap(),
                ChatEvent::UserCreated { user: u1 }
            );
            assert_eq!(
                rx.recv().await.unwrap(),
                ChatEvent::UserDeleted { user: u2 }
            );
        }
    }
}
