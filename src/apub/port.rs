//! The [`chat::federation::Federation`](crate::chat::federation::Federation)
//! port as `apub` implements it: changes go to the outbox [`Queue`],
//! presence and typing to [`Signals`] (sent at once, never stored), and a
//! group hosted elsewhere is fetched through the federation library. The
//! library's configuration holds the chat (its app data), which holds this
//! port, so the port is built first and the configuration bound to it
//! afterwards ([`Port::bind`]), weakly: the state that owns the
//! configuration owns the port, not the other way round.

use super::context::Federation as Library;
use super::joins;
use super::outbox::Queue;
use super::signals::Signals;
use crate::chat::federation::{Federation, Outgoing, RemoteGroup, Signal};
use crate::chat::{ChatError, ChatResult};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use url::Url;

/// What `chat` holds as its federation port.
pub struct Port {
    queue: Arc<Queue>,
    signals: Arc<Signals>,
    /// The federation library's configuration, once it is built.
    library: OnceLock<Weak<Library>>,
}

impl Port {
    pub fn new(queue: Arc<Queue>, signals: Arc<Signals>) -> Self {
        Self {
            queue,
            signals,
            library: OnceLock::new(),
        }
    }

    /// Gives the port the federation library's configuration (the first
    /// call wins). Until then, and after the configuration is dropped,
    /// fetches fail as internal errors.
    pub fn bind(&self, library: &Arc<Library>) {
        let _ = self.library.set(Arc::downgrade(library));
    }

    fn library(&self) -> ChatResult<Arc<Library>> {
        self.library
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| ChatError::Internal("federation is not running".into()))
    }
}

impl Federation for Port {
    fn outgoing(
        &self,
        change: Outgoing,
    ) -> Pin<Box<dyn Future<Output = ChatResult<()>> + Send + '_>> {
        Box::pin(self.queue.outgoing(change))
    }

    fn signal(&self, signal: Signal) {
        self.signals.send(signal);
    }

    fn remote_group<'a>(
        &'a self,
        group: &'a Url,
    ) -> Pin<Box<dyn Future<Output = ChatResult<RemoteGroup>> + Send + 'a>> {
        Box::pin(async move { joins::fetch_group(&*self.library()?, group).await })
    }
}
