//! Confab: a federated chat server.
//!
//! Module map (dependency rules in `docs/architecture.md`):
//! - [`config`]: the typed configuration (flags, `CONFAB_*`, TOML file).
//! - [`db`]: PostgreSQL or SQLite behind one handle; schema; migrations.
//! - [`auth`]: password hashes and access tokens.
//! - [`chat`]: the domain rules; publishes events on the bus seam.
//! - [`bus`]: event bus implementations (in-process now).
//! - [`api`]: REST API v1 and its OpenAPI document.
//! - [`ws`]: the WebSocket protocol: sessions, the hub, fan-out.
//! - [`apub`]: ActivityPub discovery and actors (federation in progress).
//! - [`media`]: media storage (local directory or S3), type sniffing,
//!   image processing, signed capability links.
//! - [`outgoing`]: the one HTTP client for requests to other servers,
//!   guarded against internal addresses.
//! - [`web`]: the browser client of `web/`, embedded and served at `/`.
//! - [`logging`]: the binary's log on stderr, text or JSON.
//! - [`client_ip`]: the client address of a request (the peer, or what a
//!   trusted proxy says).
//! - [`ratelimit`]: keyed token buckets in bounded memory.
//! - [`strict_json`]: refuses JSON objects that repeat a key.
//! - [`html_tokens`]: html5ever's tokenizer fed with a bound on long tags.
//! - [`error`]: every failure mapped to a status and JSON body, in one place.
//! - [`state`]: the application state handed to handlers.
//! - [`server`]: router, middleware, serving and graceful shutdown.
//! - [`telemetry`]: Prometheus metrics at `/metrics`, HTTP request counts.

pub mod api;
pub mod apub;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod client_ip;
pub mod config;
pub mod db;
pub mod error;
pub mod html_tokens;
pub mod logging;
pub mod media;
pub mod outgoing;
pub mod ratelimit;
pub mod server;
pub mod state;
pub mod strict_json;
pub mod telemetry;
pub mod web;
pub mod ws;
