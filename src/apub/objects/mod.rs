//! ActivityPub objects: wire structs (what peers send and we emit) and the
//! database rows behind them.

pub mod group;
pub mod note;
pub mod person;

/// An actor's inbox: the stored one, else `{id}/inbox`.
fn inbox_of(stored: Option<&str>, ap_id: &url::Url) -> url::Url {
    stored
        .and_then(|inbox| url::Url::parse(inbox).ok())
        .or_else(|| url::Url::parse(&format!("{ap_id}/inbox")).ok())
        .unwrap_or_else(|| ap_id.clone())
}
