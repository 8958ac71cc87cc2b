//! ActivityPub: discovery (WebFinger, NodeInfo, host-meta), users as
//! actors, signed inboxes, outgoing activities in a persistent queue and
//! the worker that delivers them. See `docs/federation.md`.
//!
//! May import `chat` and `db`; must not import `api`, `ws` or `state`. This
//! file only declares the modules: the routes are in [`routes`], and the
//! helpers the modules share live in the module of their concept.

pub mod activities;
pub mod actor_cache;
mod actors;
pub mod context;
pub mod delivery;
mod discovery;
mod fetch;
mod games;
pub mod group_admin;
pub mod html;
pub mod inbox;
pub mod instance;
pub mod joins;
pub mod keys;
pub mod lookup;
pub mod markdown;
pub mod objects;
pub mod outbox;
pub mod port;
pub mod proofs;
pub mod replays;
pub mod rfc9421;
pub mod routes;
pub mod schemes;
pub mod signals;
pub mod signing;
pub mod urls;
pub mod wire;

/// The media type of ActivityPub documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";
