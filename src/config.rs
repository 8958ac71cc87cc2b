//! The one typed configuration. Every setting comes, in order of precedence,
//! from a command-line flag, its `CONFAB_<NAME>` environment variable, the
//! TOML file named by `--config`/`CONFAB_CONFIG`, or its default; `confab
//! --help` lists them all. No globals: the parsed [`Config`] is passed down.

use clap::error::{ContextKind, ContextValue};
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Confab: a federated chat server.
#[derive(Debug, Parser)]
#[command(name = "confab", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage IP rules (allow and deny lists per scope); a running server
    /// picks changes up within `ip_rules_reload_s`.
    #[command(subcommand, name = "ip-rule")]
    IpRule(IpRuleCommand),
    /// Copy the SQLite database, while the server runs, to a new file
    /// (PostgreSQL: use pg_dump). Migrations are not applied.
    Backup {
        /// The copy to write; must not exist.
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a password.
    Create {
        /// The new user's name: 1-32 letters, digits, `_`, `-` and `.`,
        /// unique on this server.
        #[arg(long)]
        name: String,
        /// The password; read from CONFAB_NEW_USER_PASSWORD if not given.
        #[arg(long, env = "CONFAB_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
    },
    /// List users (name, id, role, `active` or `suspended`).
    List,
    /// Give a user a role: user, moderator or admin.
    Role {
        /// The user's name or id.
        name: String,
        /// `user`, `moderator` or `admin`.
        role: crate::chat::users::Role,
    },
    /// Set a user's password; their tokens stop working and their open
    /// sessions end.
    Password {
        /// The user's name (or id).
        name: String,
        /// The new password; read from the first line of standard input
        /// when not given (keeps it out of the process list).
        #[arg(long)]
        password: Option<String>,
    },
    /// Suspend a user: they cannot log in, their tokens are refused and
    /// their open sessions end (a running server notices within
    /// `session_recheck_s`).
    Suspend {
        /// The user's name (or id).
        name: String,
    },
    /// Lift a user's suspension.
    Unsuspend {
        /// The user's name (or id).
        name: String,
    },
    /// Make an invitation code for sign-up (`registration = invite`) and
    /// print it.
    Invite {
        /// Sign-ups the code admits.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Seconds until the code expires (never when not given).
        #[arg(long)]
        expires_in_s: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IpRuleCommand {
    /// List the rules (id, scope, action, range, note).
    List,
    /// Add a rule.
    Add {
        /// `signup`, `login`, `api` or `ws`.
        #[arg(long)]
        scope: crate::chat::ip_rules::IpScope,
        /// `allow` or `deny`.
        #[arg(long)]
        action: crate::chat::ip_rules::IpAction,
        /// A CIDR range or one address.
        #[arg(long)]
        cidr: String,
        /// Why the rule exists.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Remove the rule with this id.
    Remove {
        /// The rule's id, as `ip-rule list` shows it.
        id: i64,
    },
}

/// Who may sign up at `/api/v1/auth/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistrationMode {
    /// Anyone.
    Open,
    /// Whoever has an invitation code an admin created.
    Invite,
    /// Nobody: admins create accounts.
    Closed,
}

/// The signature algorithm of the external auth service's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExternalAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "EdDSA")]
    EdDsa,
}

/// What happens to a file another server's message carries, when a
/// client opens it (clients always get a link to this server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RemoteMediaMode {
    /// Fetched on the first request, then kept in the media store (images
    /// get a thumbnail and a blurhash, like uploads) and served from it.
    Cache,
    /// Fetched and streamed through on every request; nothing is stored.
    Proxy,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting. Field names are the TOML keys.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// TOML file of settings (keys are the long flag names with `_`).
    #[arg(long, env = "CONFAB_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "CONFAB_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// Address and port of a listener that serves only `/metrics`
    /// (Prometheus text); when set, the main address does not serve it.
    #[arg(long, env = "CONFAB_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// Bearer token `/metrics` requires. Without it and without
    /// `metrics_bind`, `/metrics` is off (404).
    #[arg(
        long,
        env = "CONFAB_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,

    /// Public host name (and port, if not 443) of this instance.
    #[arg(
        long,
        env = "CONFAB_DOMAIN",
        default_value = "localhost:8080",
        global = true
    )]
    pub domain: String,

    /// Scheme of this instance's public URLs (ActivityPub ids): https, or
    /// http for local test rigs.
    #[arg(long, env = "CONFAB_PUBLIC_SCHEME", default_value = "https", value_parser = ["https", "http"], global = true)]
    pub public_scheme: String,

    /// postgres://user@host/db, or sqlite://path (created if missing).
    /// DATABASE_URL is honoured when CONFAB_DATABASE_URL is not set.
    #[arg(
        long,
        env = "CONFAB_DATABASE_URL",
        default_value = "sqlite://confab.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Database connections per pool (readers on SQLite).
    #[arg(
        long,
        env = "CONFAB_DATABASE_POOL_SIZE",
        default_value_t = 8,
        global = true
    )]
    pub database_pool_size: u32,

    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, env = "CONFAB_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format on stderr: text for people, or json (one object per line)
    /// for log collectors.
    #[arg(long, env = "CONFAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Secret that signs Confab's own access tokens; generated and stored in
    /// the database when unset.
    #[arg(long, env = "CONFAB_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of Confab's own access tokens, in seconds.
    #[arg(long, env = "CONFAB_TOKEN_TTL_S", default_value_t = 30 * 24 * 3600, global = true)]
    pub token_ttl_s: u64,

    /// `false` closes sign-up whatever `registration` says (the older
    /// spelling of `registration = closed`).
    #[arg(long, env = "CONFAB_REGISTRATION_OPEN", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub registration_open: bool,

    /// Who may sign up: open, invite (with a code an admin created) or
    /// closed. `registration_open = false` also closes it.
    #[arg(
        long,
        env = "CONFAB_REGISTRATION",
        value_enum,
        default_value = "open",
        global = true
    )]
    pub registration: RegistrationMode,

    /// Sign-ups allowed per client address (IPv6: per /64) in
    /// `signup_window_s`, refilled evenly; 0 disables the limit.
    #[arg(
        long,
        env = "CONFAB_SIGNUPS_PER_IP",
        default_value_t = 5,
        global = true
    )]
    pub signups_per_ip: u32,

    /// The window of `signups_per_ip`, in seconds.
    #[arg(
        long,
        env = "CONFAB_SIGNUP_WINDOW_S",
        default_value_t = 3600,
        global = true
    )]
    pub signup_window_s: u64,

    /// Failed logins allowed per account name in `login_window_s`, refilled
    /// evenly; beyond it logins to that name get 429. 0 disables the limit.
    #[arg(
        long,
        env = "CONFAB_LOGIN_FAILURES_PER_ACCOUNT",
        default_value_t = 10,
        global = true
    )]
    pub login_failures_per_account: u32,

    /// Failed logins allowed per client address (IPv6: per /64) in
    /// `login_window_s`; 0 disables the limit.
    #[arg(
        long,
        env = "CONFAB_LOGIN_FAILURES_PER_IP",
        default_value_t = 50,
        global = true
    )]
    pub login_failures_per_ip: u32,

    /// The window of the login limits, in seconds.
    #[arg(
        long,
        env = "CONFAB_LOGIN_WINDOW_S",
        default_value_t = 300,
        global = true
    )]
    pub login_window_s: u64,

    /// Addresses or accounts each rate limit remembers at most (memory
    /// bound; when it is reached, refilled entries go first, then any).
    #[arg(
        long,
        env = "CONFAB_RATE_LIMIT_MAX_KEYS",
        default_value_t = 65536,
        global = true
    )]
    pub rate_limit_max_keys: usize,

    /// Password hashes computed at once (argon2id takes 19 MiB each).
    #[arg(
        long,
        env = "CONFAB_PASSWORD_HASH_CONCURRENCY",
        default_value_t = 2,
        global = true
    )]
    pub password_hash_concurrency: usize,

    /// Logins and sign-ups that may wait for a hashing thread; beyond it
    /// they get 429 at once.
    #[arg(
        long,
        env = "CONFAB_PASSWORD_HASH_QUEUE",
        default_value_t = 16,
        global = true
    )]
    pub password_hash_queue: usize,

    /// Comma-separated addresses or CIDR ranges of reverse proxies whose
    /// `Forwarded`/`X-Forwarded-For` headers give the client address;
    /// empty: the socket peer is the client.
    #[arg(
        long,
        env = "CONFAB_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::client_ip::parse_cidr,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds between re-reads of the IP rules table, so rules the CLI
    /// writes apply without a restart (changes through the API apply at
    /// once).
    #[arg(
        long,
        env = "CONFAB_IP_RULES_RELOAD_S",
        default_value_t = 5,
        global = true
    )]
    pub ip_rules_reload_s: u64,

    /// Comma-separated user names that get the admin role.
    #[arg(long, env = "CONFAB_ADMINS", value_delimiter = ',', global = true)]
    pub admins: Vec<String>,

    /// Algorithm of the external auth service's JWTs; unset disables them.
    #[arg(long, env = "CONFAB_AUTH_JWT_ALGORITHM", global = true)]
    pub auth_jwt_algorithm: Option<ExternalAlgorithm>,

    /// HS256 secret or PEM public key of the external auth service, or
    /// @path of a file holding it.
    #[arg(
        long,
        env = "CONFAB_AUTH_JWT_KEY",
        hide_env_values = true,
        global = true
    )]
    pub auth_jwt_key: Option<String>,

    /// Required `iss` of external tokens.
    #[arg(long, env = "CONFAB_AUTH_JWT_ISSUER", global = true)]
    pub auth_jwt_issuer: Option<String>,

    /// Required `aud` of external tokens (unchecked when unset).
    #[arg(long, env = "CONFAB_AUTH_JWT_AUDIENCE", global = true)]
    pub auth_jwt_audience: Option<String>,

    /// Claim of external tokens that holds the user name.
    #[arg(
        long,
        env = "CONFAB_AUTH_NAME_CLAIM",
        default_value = "preferred_username",
        global = true
    )]
    pub auth_name_claim: String,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CONFAB_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Directory of uploaded media on the local filesystem (created on the
    /// first upload). Default: `media/` beside the SQLite file, or in the
    /// working directory with PostgreSQL. Ignored when `media_url` is set.
    #[arg(long, env = "CONFAB_MEDIA_DIR", global = true)]
    pub media_dir: Option<PathBuf>,

    /// Store media in S3-compatible object storage instead:
    /// `s3://bucket/prefix` (the prefix may be empty).
    #[arg(long, env = "CONFAB_MEDIA_URL", global = true)]
    pub media_url: Option<String>,

    /// Endpoint of a non-AWS S3 server (`http://127.0.0.1:9000`); path-style
    /// requests. Unset: AWS.
    #[arg(long, env = "CONFAB_MEDIA_S3_ENDPOINT", global = true)]
    pub media_s3_endpoint: Option<String>,

    /// Region of the S3 bucket.
    #[arg(
        long,
        env = "CONFAB_MEDIA_S3_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub media_s3_region: String,

    /// Access key id for the S3 bucket (unset: the AWS_* environment).
    #[arg(
        long,
        env = "CONFAB_MEDIA_S3_ACCESS_KEY_ID",
        hide_env_values = true,
        global = true
    )]
    pub media_s3_access_key_id: Option<String>,

    /// Secret access key for the S3 bucket.
    #[arg(
        long,
        env = "CONFAB_MEDIA_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        global = true
    )]
    pub media_s3_secret_access_key: Option<String>,

    /// Largest upload accepted, in bytes (413 past it).
    #[arg(long, env = "CONFAB_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024, global = true)]
    pub max_upload_bytes: u64,

    /// Bytes of media each user may have stored.
    #[arg(long, env = "CONFAB_MEDIA_QUOTA_BYTES", default_value_t = 1024 * 1024 * 1024, global = true)]
    pub media_quota_bytes: u64,

    /// Most pixels (width x height) of an image that is decoded; larger
    /// images are refused.
    #[arg(
        long,
        env = "CONFAB_MEDIA_MAX_PIXELS",
        default_value_t = 50_000_000,
        global = true
    )]
    pub media_max_pixels: u64,

    /// How long an upload no message carries is kept, in seconds.
    #[arg(long, env = "CONFAB_MEDIA_ORPHAN_TTL_S", default_value_t = 24 * 3600, global = true)]
    pub media_orphan_ttl_s: u64,

    /// Whether the first link of a message gets a preview: the page is
    /// fetched by this server (through the guarded client), off the send
    /// path. Senders can turn it off per message.
    #[arg(
        long,
        env = "CONFAB_LINK_PREVIEWS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub link_previews: bool,

    /// How long a signed media link stays valid, in seconds.
    #[arg(long, env = "CONFAB_MEDIA_LINK_TTL_S", default_value_t = 7 * 24 * 3600, global = true)]
    pub media_link_ttl_s: u64,

    /// Media of messages from other servers: `cache` (fetched through the
    /// guarded client on the first request, then stored and served like an
    /// upload) or `proxy` (fetched and streamed through on every request).
    /// Either way clients get this server's links, never the remote URL.
    #[arg(
        long,
        env = "CONFAB_REMOTE_MEDIA",
        value_enum,
        default_value = "cache",
        global = true
    )]
    pub remote_media: RemoteMediaMode,

    /// Longest message body, in characters.
    #[arg(
        long,
        env = "CONFAB_MAX_MESSAGE_CHARS",
        default_value_t = 4000,
        global = true
    )]
    pub max_message_chars: usize,

    /// How long a game invitation can be answered, in seconds.
    #[arg(long, env = "CONFAB_GAME_INVITE_TTL_S", default_value_t = 24 * 3600, global = true)]
    pub game_invite_ttl_s: u64,

    /// Live WebSocket sessions allowed per user.
    #[arg(
        long,
        env = "CONFAB_MAX_SESSIONS_PER_USER",
        default_value_t = 16,
        global = true
    )]
    pub max_sessions_per_user: usize,

    /// Largest WebSocket frame accepted from a client, in bytes.
    #[arg(long, env = "CONFAB_MAX_FRAME_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_frame_bytes: usize,

    /// Requests one WebSocket session may make per second (bursts of twice
    /// as many); beyond it requests get `rate_limited`.
    #[arg(
        long,
        env = "CONFAB_WS_REQUESTS_PER_S",
        default_value_t = 200,
        global = true
    )]
    pub ws_requests_per_s: u32,

    /// Push frames queued for one session before it is closed as too slow.
    #[arg(
        long,
        env = "CONFAB_SESSION_QUEUE",
        default_value_t = 1024,
        global = true
    )]
    pub session_queue: usize,

    /// How long a WebSocket write or flush may make no progress, in
    /// seconds, before the session's TCP connection is dropped (a client
    /// that stopped reading).
    #[arg(
        long,
        env = "CONFAB_WS_WRITE_TIMEOUT_S",
        default_value_t = 10,
        global = true
    )]
    pub ws_write_timeout_s: u64,

    /// How often each WebSocket session re-reads its account (one read by
    /// primary key), in seconds, to end itself when a password change,
    /// revocation, suspension or role change was made by another process
    /// (the CLI). Changes made through the API end sessions at once.
    #[arg(
        long,
        env = "CONFAB_SESSION_RECHECK_S",
        default_value_t = 30,
        global = true
    )]
    pub session_recheck_s: u64,

    /// How long a client has to send a complete request head (request line
    /// and headers), in seconds: from the connection's start, or from the
    /// first byte of a later request on a kept-alive connection.
    #[arg(
        long,
        env = "CONFAB_HTTP_HEADER_TIMEOUT_S",
        default_value_t = 10,
        global = true
    )]
    pub http_header_timeout_s: u64,

    /// How long a client has to send a whole request body, in seconds from
    /// the end of its head; a later body gets 408 `request_timeout`.
    #[arg(
        long,
        env = "CONFAB_HTTP_BODY_TIMEOUT_S",
        default_value_t = 30,
        global = true
    )]
    pub http_body_timeout_s: u64,

    /// How long a kept-alive connection may wait for its next request, in
    /// seconds, before the server closes it.
    #[arg(
        long,
        env = "CONFAB_HTTP_IDLE_TIMEOUT_S",
        default_value_t = 60,
        global = true
    )]
    pub http_idle_timeout_s: u64,

    /// Open connections (HTTP and WebSocket) in all; beyond it the server
    /// stops accepting until one closes. Lowered at start to stay below the
    /// open-file limit.
    #[arg(
        long,
        env = "CONFAB_MAX_CONNECTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_connections: usize,

    /// Open connections per client address (IPv6: per /64); further ones
    /// are closed at once. 0 turns the cap off (behind a reverse proxy,
    /// every connection comes from the proxy).
    #[arg(
        long,
        env = "CONFAB_MAX_CONNECTIONS_PER_IP",
        default_value_t = 128,
        global = true
    )]
    pub max_connections_per_ip: usize,

    /// Test rigs only: allow http, explicit ports and private or loopback
    /// addresses in federation (never on a public server).
    #[arg(
        long,
        env = "CONFAB_FEDERATION_ALLOW_PRIVATE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub federation_allow_private: bool,

    /// Test rigs only: comma-separated `host=ip` pairs that federation
    /// requests resolve without DNS (for example `beta.test=127.0.0.1`).
    #[arg(
        long,
        env = "CONFAB_FEDERATION_RESOLVE",
        value_delimiter = ',',
        global = true
    )]
    pub federation_resolve: Vec<String>,

    /// Send a `Block` activity to the blocked actor's server (Mastodon does).
    #[arg(
        long,
        env = "CONFAB_FEDERATION_SEND_BLOCKS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub federation_send_blocks: bool,

    /// Sign deliveries to servers whose NodeInfo says Confab with RFC 9421
    /// and Ed25519 (else every delivery is draft-cavage with RSA).
    #[arg(
        long,
        env = "CONFAB_FEDERATION_RFC9421",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub federation_rfc9421: bool,

    /// First retry delay of a failed delivery, in seconds; it doubles per
    /// failure of the host, up to a day.
    #[arg(
        long,
        env = "CONFAB_FEDERATION_RETRY_BASE_S",
        default_value_t = 30,
        global = true
    )]
    pub federation_retry_base_s: u64,

    /// Deliveries that failed this many times are given up (`failed`).
    #[arg(
        long,
        env = "CONFAB_FEDERATION_MAX_ATTEMPTS",
        default_value_t = 16,
        global = true
    )]
    pub federation_max_attempts: u32,

    /// Requests in flight per destination host. A receiving Confab commits
    /// what arrives together, so a wider window costs both sides less CPU
    /// per activity (32 against 16: 4,276 against 3,612 deliveries/s in
    /// `docs/benchmarks.md`, session 10).
    #[arg(
        long,
        env = "CONFAB_FEDERATION_HOST_CONCURRENCY",
        default_value_t = 32,
        global = true
    )]
    pub federation_host_concurrency: usize,

    /// How often, in seconds, a connected user's presence is announced
    /// again to their contacts' servers; each announcement holds for three
    /// intervals, so a remote user whose server falls silent looks offline
    /// within three intervals.
    #[arg(
        long,
        env = "CONFAB_FEDERATION_PRESENCE_REFRESH_S",
        default_value_t = 60,
        global = true
    )]
    pub federation_presence_refresh_s: u64,

    /// How long to wait for open requests on shutdown, in seconds.
    #[arg(
        long,
        env = "CONFAB_SHUTDOWN_TIMEOUT_S",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_timeout_s: u64,

    /// Comma-separated origins (`https://auth.example.org`) that may frame
    /// the web client and hand it a token by postMessage, besides its own.
    #[arg(
        long,
        env = "CONFAB_WEB_EMBED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub web_embed_origins: Vec<String>,
}

/// A configuration that cannot be used, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Cli {
    /// Parses flags, environment and the optional TOML file.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(std::env::args_os())
    }

    pub fn load_from<I, T>(args: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let mut command = Cli::command();
        let file = config_file(&args);
        if let Some(path) = &file {
            command = apply_file_defaults(command, path)?;
        }
        // DATABASE_URL sits below CONFAB_DATABASE_URL and the flag, above the file.
        if let (Err(_), Ok(url)) = (
            std::env::var("CONFAB_DATABASE_URL"),
            std::env::var("DATABASE_URL"),
        ) {
            command = command.mut_arg("database_url", |a| a.default_value(url));
        }
        let matches: ArgMatches = match command.try_get_matches_from_mut(&args) {
            Ok(matches) => matches,
            // --help and --version print and exit, as clap does.
            Err(e) if !e.use_stderr() => e.exit(),
            Err(e) => return Err(ConfigError(explain(&command, &e, &args, file.as_deref()))),
        };
        let cli = Cli::from_arg_matches(&matches).map_err(|e| ConfigError(e.to_string()))?;
        cli.config.validate()?;
        Ok(cli)
    }
}

impl Config {
    /// Who may sign up, with `registration_open = false` closing it.
    pub fn registration_mode(&self) -> RegistrationMode {
        if self.registration_open {
            self.registration
        } else {
            RegistrationMode::Closed
        }
    }

    /// `scheme://domain`: the prefix of every public URL of this instance.
    pub fn public_base(&self) -> String {
        format!("{}://{}", self.public_scheme, self.domain)
    }

    /// Whether `url` points at this instance (host and port equal `domain`).
    pub fn is_local(&self, url: &url::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        match url.port() {
            Some(port) => format!("{host}:{port}") == self.domain,
            None => host == self.domain,
        }
    }

    /// Settings that work but are probably not what the operator meant,
    /// said at start: ids that say `https` on a server that speaks plain
    /// HTTP with no sign of a TLS proxy in front (it listens on a public
    /// address, or its domain is this machine).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.public_scheme != "https" {
            return warnings;
        }
        let host = self
            .domain
            .rsplit_once(':')
            .map_or(self.domain.as_str(), |(host, _)| host)
            .trim_matches(['[', ']']);
        let local_domain = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if local_domain {
            warnings.push(format!(
                "public ids say https://{} but Confab serves plain HTTP and nothing on this \
                 machine name terminates TLS: set public_scheme = \"http\" to try it locally, \
                 or set domain to the public name of a TLS proxy (docs/operations.md)",
                self.domain
            ));
        } else if !self.bind.ip().is_loopback() {
            warnings.push(format!(
                "public ids say https://{} but Confab serves plain HTTP on {}, reachable from \
                 other machines: put a TLS reverse proxy in front and bind to 127.0.0.1 \
                 (docs/operations.md)",
                self.domain, self.bind
            ));
        }
        warnings
    }

    /// Whether `/metrics` is served: only when a listener of its own or a
    /// token keeps it from the public.
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_bind.is_some() || self.metrics_token.is_some()
    }

    /// Checks settings that depend on each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.auth_jwt_algorithm.is_some()
            && (self.auth_jwt_key.is_none() || self.auth_jwt_issuer.is_none())
        {
            return Err(ConfigError(
                "auth_jwt_algorithm needs auth_jwt_key and auth_jwt_issuer".into(),
            ));
        }
        for pair in &self.federation_resolve {
            let ok = pair.split_once('=').is_some_and(|(host, ip)| {
                !host.is_empty() && ip.parse::<std::net::IpAddr>().is_ok()
            });
            if !ok {
                return Err(ConfigError(format!(
                    "federation_resolve: {pair:?} is not host=ip"
                )));
            }
        }
        if !self.federation_resolve.is_empty() && !self.federation_allow_private {
            return Err(ConfigError(
                "federation_resolve is for test rigs and needs federation_allow_private = true"
                    .into(),
            ));
        }
        if self.federation_presence_refresh_s == 0 || self.federation_presence_refresh_s > 300 {
            return Err(ConfigError(
                "federation_presence_refresh_s must be 1 to 300 seconds".into(),
            ));
        }
        if self.federation_retry_base_s == 0 || self.federation_max_attempts == 0 {
            return Err(ConfigError(
                "federation_retry_base_s and federation_max_attempts must be positive".into(),
            ));
        }
        for origin in &self.web_embed_origins {
            if !is_origin(origin) {
                return Err(ConfigError(format!(
                    "web_embed_origins: {origin:?} is not an origin like https://auth.example.org"
                )));
            }
        }
        if self.signup_window_s == 0 || self.login_window_s == 0 {
            return Err(ConfigError(
                "signup_window_s and login_window_s must be positive".into(),
            ));
        }
        if self.ip_rules_reload_s == 0 {
            return Err(ConfigError("ip_rules_reload_s must be positive".into()));
        }
        if self.password_hash_concurrency == 0 {
            return Err(ConfigError(
                "password_hash_concurrency must be at least 1".into(),
            ));
        }
        let timeouts = [
            ("ws_write_timeout_s", self.ws_write_timeout_s),
            ("session_recheck_s", self.session_recheck_s),
            ("http_header_timeout_s", self.http_header_timeout_s),
            ("http_body_timeout_s", self.http_body_timeout_s),
            ("http_idle_timeout_s", self.http_idle_timeout_s),
        ];
        if let Some((name, _)) = timeouts.iter().find(|(_, s)| *s == 0) {
            return Err(ConfigError(format!("{name} must be at least 1")));
        }
        if self.max_connections == 0 {
            return Err(ConfigError("max_connections must be at least 1".into()));
        }
        if self.max_upload_bytes == 0 || self.media_link_ttl_s == 0 || self.media_orphan_ttl_s == 0
        {
            return Err(ConfigError(
                "max_upload_bytes, media_link_ttl_s and media_orphan_ttl_s must be positive".into(),
            ));
        }
        if self
            .media_url
            .as_deref()
            .is_some_and(|u| !u.starts_with("s3://"))
        {
            return Err(ConfigError("media_url must be s3://bucket/prefix".into()));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError("max_body_bytes must be at least 1024".into()));
        }
        Ok(())
    }
}

/// Clap's message for `error`, with the flag it names replaced by where the
/// value came from when that was not the command line: the environment
/// variable, or the key and the file.
fn explain(
    command: &clap::Command,
    error: &clap::Error,
    args: &[OsString],
    file: Option<&Path>,
) -> String {
    let message = error.render().to_string();
    let first = message.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return message.trim_end().trim_start_matches("error: ").to_owned();
    };
    let long = shown.split(' ').next().unwrap_or_default();
    let Some(arg) = command
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long))
    else {
        return first;
    };
    let given = args.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == long || a.starts_with(&format!("{long}="))
    });
    if given {
        return first;
    }
    let env = arg
        .get_env()
        .filter(|name| std::env::var_os(name).is_some());
    let source = match (env, file) {
        (Some(name), _) => format!("the environment variable {}", name.to_string_lossy()),
        (None, Some(path)) => format!("the key {} in {}", arg.get_id(), path.display()),
        (None, None) => return first,
    };
    first.replace(&format!("'{shown}'"), &source)
}

/// Whether `text` is exactly a serialised http(s) origin: scheme, host and
/// an optional port, nothing else (it goes into a CSP header verbatim).
fn is_origin(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https") && url.origin().ascii_serialization() == text
    })
}

/// The config file named by `--config PATH`, `--config=PATH` or CONFAB_CONFIG.
fn config_file(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CONFAB_CONFIG").map(PathBuf::from)
}

/// Makes each key of the TOML file the default of its setting, so flags and
/// environment variables still override it.
fn apply_file_defaults(
    mut command: clap::Command,
    path: &Path,
) -> Result<clap::Command, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| ConfigError(format!("{} is not valid TOML: {e}", path.display())))?;
    for (key, value) in table {
        if key == "config" || !command.get_arguments().any(|a| a.get_id() == key.as_str()) {
            return Err(ConfigError(format!(
                "{}: unknown setting {key:?}",
                path.display()
            )));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        command = command.mut_arg(key, |a| a.default_value(value));
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Every option and argument of `confab` and of each subcommand, at any
    /// depth, says what it is for in `--help`.
    #[test]
    fn every_argument_of_every_subcommand_has_help() {
        fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    out.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                undocumented(sub, &format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        undocumented(&cmd, "confab", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }

    #[test]
    fn defaults() {
        let cli = Cli::load_from(["confab"]).unwrap();
        assert_eq!(cli.config.bind.to_string(), "127.0.0.1:8080");
        assert!(cli.config.registration_open);
        assert!(cli.command.is_none());
    }

    #[test]
    fn file_values_are_defaults_that_flags_override() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "bind = \"127.0.0.1:9999\"\ndomain = \"chat.example\"\nadmins = [\"ada\", \"bob\"]\nregistration_open = false"
        )
        .unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let cli = Cli::load_from(["confab", "--config", &path, "--domain", "x.example"]).unwrap();
        assert_eq!(cli.config.bind.port(), 9999);
        assert_eq!(cli.config.domain, "x.example");
        assert_eq!(
            cli.config.admins,
            vec!["ada".to_string(), "bob".to_string()]
        );
        assert!(!cli.config.registration_open);
    }

    #[test]
    fn embed_origins_must_be_bare_origins() {
        let good = Cli::load_from([
            "confab",
            "--web-embed-origins",
            "https://auth.example.org,http://127.0.0.1:9000",
        ])
        .unwrap();
        assert_eq!(good.config.web_embed_origins.len(), 2);
        for bad in [
            "https://auth.example.org/",
            "https://auth.example.org/login",
            "javascript:alert(1)",
            "auth.example.org",
            "https://a.example 'unsafe-inline'",
        ] {
            assert!(
                Cli::load_from(["confab", "--web-embed-origins", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "bnid = \"127.0.0.1:9999\"").unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let err = Cli::load_from(["confab", "--config", &path]).unwrap_err();
        assert!(err.0.contains("bnid"), "{err}");
    }

    /// Every setting is documented in `config.example.toml` (as a key,
    /// maybe commented out) and in the README's configuration table.
    #[test]
    fn every_setting_is_in_the_example_file_and_the_readme() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let example = std::fs::read_to_string(root.join("config.example.toml")).unwrap();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let keys: Vec<String> = example
            .lines()
            .map(|l| l.trim_start_matches('#').trim_start())
            .filter_map(|l| l.split_once(" = ").map(|(key, _)| key.trim().to_owned()))
            .collect();
        let command = Cli::command();
        let settings: Vec<&str> = command
            .get_arguments()
            .map(|a| a.get_id().as_str())
            .filter(|id| !matches!(*id, "help" | "version" | "config"))
            .collect();
        assert!(settings.len() > 30, "{settings:?}");
        for setting in settings {
            assert!(
                keys.iter().any(|k| k == setting),
                "config.example.toml lacks {setting}"
            );
            assert!(
                readme.contains(&format!(
                    "| `{setting}` | `--{}` |",
                    setting.replace('_', "-")
                )),
                "the README's configuration table lacks {setting}"
            );
        }
    }

    #[test]
    fn a_bad_value_in_the_file_names_the_key_and_the_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "max_message_chars = \"many\"").unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let err = Cli::load_from(["confab", "--config", &path]).unwrap_err();
        assert!(
            err.0
                .contains(&format!("the key max_message_chars in {path}")),
            "{err}"
        );
        assert!(!err.0.contains("--max-message-chars"), "{err}");
        // Given as a flag, the flag is named.
        let err = Cli::load_from(["confab", "--max-message-chars", "many"]).unwrap_err();
        assert!(err.0.contains("--max-message-chars"), "{err}");
    }

    #[test]
    fn resolving_names_needs_the_rig_switch() {
        let err =
            Cli::load_from(["confab", "--federation-resolve", "a.test=127.0.0.1"]).unwrap_err();
        assert!(err.0.contains("federation_allow_private"), "{err}");
        assert!(Cli::load_from([
            "confab",
            "--federation-resolve",
            "a.test=127.0.0.1",
            "--federation-allow-private",
            "true"
        ])
        .is_ok());
    }

    #[test]
    fn https_ids_without_a_tls_proxy_are_warned_about() {
        let warnings = |args: &[&str]| {
            let mut argv = vec!["confab"];
            argv.extend_from_slice(args);
            Cli::load_from(argv).unwrap().config.warnings()
        };
        // The defaults: https ids for localhost.
        let local = warnings(&[]);
        assert_eq!(local.len(), 1, "{local:?}");
        assert!(local[0].contains("public_scheme = \"http\""), "{local:?}");
        assert!(warnings(&["--public-scheme", "http"]).is_empty());
        // A public name behind a proxy on loopback: the intended set-up.
        assert!(warnings(&["--domain", "chat.example.org"]).is_empty());
        let exposed = warnings(&["--domain", "chat.example.org", "--bind", "0.0.0.0:8080"]);
        assert_eq!(exposed.len(), 1, "{exposed:?}");
        assert!(exposed[0].contains("0.0.0.0:8080"), "{exposed:?}");
    }

    #[test]
    fn external_auth_needs_key_and_issuer() {
        assert!(Cli::load_from(["confab", "--auth-jwt-algorithm", "HS256"]).is_err());
        assert!(Cli::load_from([
            "confab",
            "--auth-jwt-algorithm",
            "HS256",
            "--auth-jwt-key",
            "k",
            "--auth-jwt-issuer",
            "https://auth.example"
        ])
        .is_ok());
    }
}
