//! Casework over HTTP: routes, extractors and representations (the JSON API with its OpenAPI
//! document, and the operational endpoints). Handlers are thin: parse the request, call one
//! `casework_app::App` function, render the answer.
//!
//! This crate must not speak SQL or hold business rules: those live in the store and the
//! domain, reached only through the app crate.

mod api;
mod error;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use casework_app::{App, Feature};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use api::openapi;
pub use error::ApiError;

/// The largest request body accepted, in bytes.
const BODY_LIMIT: usize = 1024 * 1024;
/// A request still running after this long is answered with 408 rather than left hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every route Casework serves, for the elements switched on.
pub fn router(app: App) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if app.features().is_on(Feature::Api) {
        router = router.merge(api::router());
    }
    router
        .with_state(app)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(error::panic_response))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
async fn readyz(State(app): State<App>) -> (StatusCode, &'static str) {
    match app.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            )
        }
    }
}
