//! What federation handlers need (the `Data` of `activitypub_federation`)
//! and how the library is configured: our HTTP client (timeouts, no
//! redirects, private addresses refused unless a test rig allows them) and
//! debug mode only for rigs.

use super::outbox::Queue;
use crate::chat::Chat;
use crate::config::Config;
use activitypub_federation::config::FederationConfig;
use activitypub_federation::resolver::ValidatingDnsResolver;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

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

/// Request data of the federation library.
pub type Data = activitypub_federation::config::Data<Context>;

/// How long any federation request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client for fetches and deliveries.
pub fn http_client(config: &Config) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("Confab/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(16);
    if config.federation_allow_private {
        for pair in &config.federation_resolve {
            if let Some((host, ip)) = pair.split_once('=') {
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    builder = builder.resolve(host, SocketAddr::new(ip, 0));
                }
            }
        }
    } else {
        // Refuses names that resolve to loopback, private or link-local
        // addresses (server-side request forgery).
        builder = builder.dns_resolver(Arc::new(ValidatingDnsResolver::new(vec![], true)));
    }
    builder.build()
}

/// The federation library's configuration.
pub async fn federation_config(
    context: Context,
    client: reqwest::Client,
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
        .client(client.into())
        .debug(allow_private)
        .allow_http_urls(allow_private)
        .request_timeout(REQUEST_TIMEOUT)
        .http_fetch_limit(20)
        .build()
        .await
        .map_err(|e| e.to_string())
}
