//! The application state every handler receives: the domain service (which
//! owns the database and the event bus), the token service and the
//! configuration. Built once at start-up; no globals.

use crate::api::AuthLimits;
use crate::apub;
use crate::auth::hashing::HashPool;
use crate::auth::tokens::{ExternalIssuer, TokenService};
use crate::bus::InProcessBus;
use crate::chat::{AccountPolicy, Chat, ChatError, ChatLimits};
use crate::config::{Config, ConfigError, ExternalAlgorithm};
use crate::db::{settings, Db, DbError};
use crate::ws::hub::Hub;
use activitypub_federation::config::FederationConfig;
use jsonwebtoken::Algorithm;
use metrics_exporter_prometheus::PrometheusHandle;
use rand_core::{OsRng, RngCore};
use std::sync::Arc;
use std::time::Duration;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("federation setup failed: {0}")]
    Federation(String),
    #[error("cannot start the password hashing threads: {0}")]
    Threads(std::io::Error),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Shared by all requests; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub chat: Arc<Chat>,
    pub tokens: Arc<TokenService>,
    /// Failed logins and sign-ups per client and account.
    pub auth_limits: Arc<AuthLimits>,
    /// Live WebSocket sessions on this node.
    pub hub: Arc<Hub>,
    /// The federation library's configuration (its app data holds the
    /// chat; the chat's federation port holds it weakly).
    pub federation: Arc<FederationConfig<apub::context::Context>>,
    /// The Prometheus recorder, when `metrics_bind` or `metrics_token`
    /// turns metrics on.
    pub metrics: Option<PrometheusHandle>,
}

/// Key of the generated token secret in `instance_settings`.
const JWT_SECRET_KEY: &str = "jwt_secret";

impl AppState {
    /// Connects to and migrates the database, then wires the services.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let metrics = config
            .metrics_enabled()
            .then(crate::telemetry::recorder)
            .flatten();
        let db = Db::connect(&config.database_url, config.database_pool_size).await?;
        let applied = db.migrate().await?;
        tracing::info!(backend = db.backend().name(), applied, "database ready");
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => {
                settings::get_or_insert(&mut db.write().await?, JWT_SECRET_KEY, random_secret)
                    .await?
            }
        };
        let tokens = TokenService::new(
            format!("confab:{}", config.domain),
            secret.as_bytes(),
            Duration::from_secs(config.token_ttl_s),
            external_issuer(&config)?,
        );
        let policy = AccountPolicy {
            registration: config.registration_mode(),
            admins: config.admins.clone(),
            domain: config.domain.clone(),
        };
        let limits = ChatLimits {
            max_message_chars: config.max_message_chars,
            game_invite_ttl_s: config.game_invite_ttl_s,
        };
        let config = Arc::new(config);
        let links = Arc::new(media_links(&config, &db).await?);
        let queue = Arc::new(apub::outbox::Queue::new(
            db.clone(),
            config.clone(),
            links.clone(),
        ));
        let outgoing = crate::outgoing::Outgoing::new(&config)
            .map_err(|e| StartupError::Federation(e.to_string()))?;
        let delivery = Arc::new(apub::delivery::Delivery::new(
            db.clone(),
            outgoing.clone(),
            config.clone(),
            queue.handoff.clone(),
        ));
        let signals = Arc::new(apub::signals::Signals::new(
            queue.clone(),
            delivery.clone(),
            config.clone(),
        ));
        let port = Arc::new(apub::port::Port::new(queue.clone(), signals));
        let hashing = HashPool::new(config.password_hash_concurrency, config.password_hash_queue)
            .map_err(StartupError::Threads)?;
        let hub = Arc::new(Hub::default());
        let chat = Chat::new(
            db.clone(),
            Arc::new(InProcessBus::with_listener(hub.clone())),
            policy,
            limits,
            hashing,
            Some(port.clone()),
        )
        .with_media(media_service(&config, links, &outgoing)?);
        let (chat, previews) = if config.link_previews {
            let (previewer, jobs) = crate::chat::previews::Previewer::new(
                outgoing.clone(),
                crate::chat::previews::LIMITS,
            );
            (chat.with_previews(previewer), Some(jobs))
        } else {
            (chat, None)
        };
        chat.promote_configured_admins().await?;
        chat.reload_ip_rules().await?;
        let chat = Arc::new(chat);
        if let Some(jobs) = previews {
            tokio::spawn(crate::chat::previews::run(Arc::downgrade(&chat), jobs));
        }
        tokio::spawn(crate::chat::ip_rules::reload_periodically(
            Arc::downgrade(&chat),
            Duration::from_secs(config.ip_rules_reload_s),
        ));
        tokio::spawn(crate::chat::presence::presence_ticker(
            Arc::downgrade(&chat),
            Duration::from_secs(config.federation_presence_refresh_s),
        ));
        tokio::spawn(crate::chat::media::sweep_periodically(
            Arc::downgrade(&chat),
            Duration::from_secs(MEDIA_SWEEP_S),
        ));
        tokio::spawn(delivery.run());
        tokio::spawn(apub::inbox::forget_old_activities(chat.db().clone()));
        let context = apub::context::Context {
            chat: chat.clone(),
            config: config.clone(),
            queue,
            actors: Arc::default(),
            replays: Arc::new(apub::replays::Replays::new(chat.db().clone())),
        };
        let federation = Arc::new(
            apub::context::federation_config(context, &outgoing)
                .await
                .map_err(StartupError::Federation)?,
        );
        port.bind(&federation);
        Ok(Self {
            auth_limits: Arc::new(AuthLimits::new(&config)),
            config,
            chat,
            tokens: Arc::new(tokens),
            hub,
            federation,
            metrics,
        })
    }
}

/// Key of the media link secret in `instance_settings`.
const MEDIA_LINK_KEY: &str = "media_link_secret";
/// How often orphaned media is looked for, in seconds.
const MEDIA_SWEEP_S: u64 = 600;

/// The signer of media links, whose key is generated once and kept in the
/// database (so links survive restarts and work on every node).
async fn media_links(
    config: &Config,
    db: &Db,
) -> Result<crate::media::capability::Signer, StartupError> {
    let secret =
        settings::get_or_insert(&mut db.write().await?, MEDIA_LINK_KEY, random_secret).await?;
    Ok(crate::media::capability::Signer::new(
        secret.as_bytes(),
        config.public_base(),
    ))
}

/// The media store of the configuration, with the link signer and the
/// fetcher of remote files.
fn media_service(
    config: &Config,
    signer: Arc<crate::media::capability::Signer>,
    outgoing: &crate::outgoing::Outgoing,
) -> Result<crate::chat::media::MediaService, StartupError> {
    use crate::media::{MediaStore, StoreSettings};
    let media_error =
        |e: crate::media::MediaError| StartupError::Config(ConfigError(e.to_string()));
    let store = MediaStore::open(&StoreSettings::from_config(config).map_err(media_error)?)
        .map_err(media_error)?;
    tracing::info!(location = store.location(), "media store");
    let limits = crate::chat::media::MediaLimits {
        max_upload_bytes: config.max_upload_bytes,
        quota_bytes: config.media_quota_bytes,
        max_pixels: config.media_max_pixels,
        orphan_ttl_s: config.media_orphan_ttl_s,
        link_ttl_s: config.media_link_ttl_s,
    };
    let remote = crate::chat::media::RemoteMedia {
        fetcher: crate::media::remote::RemoteFetcher::new(
            outgoing.clone(),
            config.max_upload_bytes,
        ),
        mode: config.remote_media,
    };
    Ok(crate::chat::media::MediaService::new(
        store, signer, limits, remote,
    ))
}

fn external_issuer(config: &Config) -> Result<Option<ExternalIssuer>, ConfigError> {
    let (Some(algorithm), Some(key), Some(issuer)) = (
        config.auth_jwt_algorithm,
        config.auth_jwt_key.as_deref(),
        config.auth_jwt_issuer.clone(),
    ) else {
        return Ok(None);
    };
    let algorithm = match algorithm {
        ExternalAlgorithm::Hs256 => Algorithm::HS256,
        ExternalAlgorithm::Rs256 => Algorithm::RS256,
        ExternalAlgorithm::EdDsa => Algorithm::EdDSA,
    };
    ExternalIssuer::from_settings(
        algorithm,
        key,
        issuer,
        config.auth_jwt_audience.clone(),
        config.auth_name_claim.clone(),
    )
    .map(Some)
    .map_err(ConfigError)
}

/// 256 random bits, hex-encoded.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The federation routes' state is the federation library's configuration.
impl axum::extract::FromRef<AppState> for apub::context::Federation {
    fn from_ref(state: &AppState) -> Self {
        (*state.federation).clone()
    }
}
