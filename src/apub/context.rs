//! What federation handlers need (the `Data` of `activitypub_federation`)
//! and how the library is configured: the guarded client of
//! [`crate::outgoing`] for all its fetches, and debug mode only for rigs.

use super::outbox::Queue;
use crate::chat::Chat;
use crate::config::Config;
use crate::outgoing::{Outgoing, REQUEST_TIMEOUT};
use activitypub_federation::config::FederationConfig;
use std::sync::Arc;

/// The app data every federation handler gets.
#[derive(Clone)]
pub struct Context {
    pub chat: Arc<Chat>,
    pub config: Arc<Config>,
    /// Where outgoing activities are queued.
    pub queue: Arc<Queue>,
    /// Remote actors read in the last minute.
    pub actors: Arc<super::actor_cache::ActorCache>,
    /// Activity ids already applied.
    pub replays: Arc<super::replays::Replays>,
}

impl Context {
    /// This server's URL scheme.
    pub fn urls(&self) -> super::urls::LocalUrls {
        super::urls::LocalUrls::new(self.config.public_base())
    }
}

/// Request data of the federation library.
pub type Data = activitypub_federation::config::Data<Context>;

/// The federation library's configuration, which is also the state of the
/// federation routes (it dereferences to [`Context`]): handlers take it, not
/// the whole application state.
pub type Federation = FederationConfig<Context>;

/// The federation library's configuration.
pub async fn federation_config(
    context: Context,
    outgoing: &Outgoing,
) -> Result<FederationConfig<Context>, String> {
    let allow_private = context.config.federation_allow_private;
    let keys = super::instance::keypair(context.chat.db())
        .await
        .map_err(|e| e.to_string())?;
    let instance_actor =
        super::instance::actor(&context.config, keys).map_err(|e| e.to_string())?;
    FederationConfig::builder()
        .signed_fetch_actor(&instance_actor)
        // Signed GETs cover `(request-target) host date` (and `accept`), as
        // Mastodon's secure mode and bovine require; see `signing`.
        .http_signature_compat(true)
        .domain(context.config.domain.clone())
        .app_data(context)
        .client(outgoing.client())
        .debug(allow_private)
        .allow_http_urls(allow_private)
        .request_timeout(REQUEST_TIMEOUT)
        .http_fetch_limit(20)
        .build()
        .await
        .map_err(|e| e.to_string())
}
