//! Domain events and the bus seam that carries them to every node's
//! listeners (WebSocket hubs, federation). The bus implementations live in
//! `crate::bus`; the domain only knows this trait.

use crate::db::ids::UserId;
use tokio::sync::broadcast;

/// Something that changed and that live listeners may need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    UserCreated { user: UserId },
    UserUpdated { user: UserId },
    UserDeleted { user: UserId },
}

/// Publishes events to every subscriber on every node.
pub trait EventBus: Send + Sync {
    /// Sends `event` to all current subscribers; never blocks.
    fn publish(&self, event: ChatEvent);
    /// A receiver of every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<ChatEvent>;
}
