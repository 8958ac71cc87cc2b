//! Operations endpoints.

use crate::error::Error;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// What `/healthz` reports when the server can serve.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// # `GET /healthz`
/// Checks that the database answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database does not answer", body = crate::error::ErrorBody)
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, Error> {
    let db = state.chat.db();
    db.ping()
        .await
        .map_err(|e| Error::Unavailable(format!("database unavailable: {e}")))?;
    Ok(Json(Health {
        status: "ok",
        database: db.backend().name(),
    }))
}
