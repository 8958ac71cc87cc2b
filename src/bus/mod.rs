//! Event bus implementations. One node uses [`InProcessBus`]; a later change
//! adds Redis and NATS buses behind the same [`EventBus`] trait so that
//! events reach sessions on every node.
//!
//! Must not import `api`, `ws` or `apub`.

use crate::chat::events::{ChatEvent, EventBus, LocalListener};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it is told it
/// lagged (and must catch up from the database).
const CAPACITY: usize = 4096;

/// Delivers events to subscribers in this process only.
pub struct InProcessBus {
    sender: broadcast::Sender<ChatEvent>,
    /// Handed each event before `publish` returns (the WebSocket hub).
    local: Option<Arc<dyn LocalListener>>,
    /// Held while an event is handed on, so every listener and subscriber
    /// sees the events in one order even when threads publish at once.
    order: Mutex<()>,
}

impl InProcessBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            local: None,
            order: Mutex::new(()),
        }
    }

    /// A bus that hands every event to `listener` inside `publish`, so the
    /// event has reached it when the publisher goes on (a request's pushes
    /// are queued before its reply).
    pub fn with_listener(listener: Arc<dyn LocalListener>) -> Self {
        Self {
            local: Some(listener),
            ..Self::new()
        }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, event: ChatEvent) {
        let _order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(local) = &self.local {
            local.on_event(&event);
        }
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

    /// Records what it is handed.
    #[derive(Default)]
    struct Seen(Mutex<Vec<ChatEvent>>);

    impl LocalListener for Seen {
        fn on_event(&self, event: &ChatEvent) {
            self.0.lock().unwrap().push(event.clone());
        }
    }

    #[test]
    fn the_local_listener_has_each_event_when_publish_returns() {
        let seen = Arc::new(Seen::default());
        let bus = InProcessBus::with_listener(seen.clone());
        let user = UserId::new();
        bus.publish(ChatEvent::UserCreated { user });
        assert_eq!(
            *seen.0.lock().unwrap(),
            vec![ChatEvent::UserCreated { user }]
        );
        bus.publish(ChatEvent::UserDeleted { user });
        assert_eq!(seen.0.lock().unwrap().len(), 2);
    }
}
