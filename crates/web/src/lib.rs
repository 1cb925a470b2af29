//! Casework over HTTP: routes, extractors and representations (the JSON API with its OpenAPI
//! document, the staff pages with signing in, and the operational endpoints). Handlers are
//! thin: parse the request, call one `casework_app::App` function, render the answer. Open311
//! GeoReport v2 has its own JSON and XML representations under `/open311/v2`.
//!
//! This crate must not speak SQL or hold business rules: those live in the store and the
//! domain, reached only through the app crate.

mod api;
mod assets;
pub mod auth;
mod error;
mod hooks;
mod i18n;
mod markdown;
mod open311;
mod ops;
mod pages;
mod sessions;
mod sign_in;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router, middleware};
use casework_app::{App, Feature};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::{CsrfLayer, ProtectionError};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use api::openapi;
pub use error::ApiError;
pub use hooks::HookTokens;
pub use ops::{Draining, prometheus};

/// How the web layer is set up, beyond the app itself.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark the cookies (a staff session, a resident's language) `Secure`: on whenever
    /// Casework is reached over https.
    pub secure_cookies: bool,
    /// A staff session ends after this long without a request.
    pub session_idle: time::Duration,
    /// A resident's answers on the request form are forgotten after this long without one.
    pub request_idle: time::Duration,
    /// The header in which a trusted proxy in front of Casework gives the client's address
    /// (such as `X-Forwarded-For`), for limiting failed sign-ins by address. Without one, the
    /// address is the connection's.
    pub client_ip_header: Option<HeaderName>,
    /// The address staff and residents reach Casework at (`CASEWORK_BASE_URL`), for the links
    /// handed over: set-password links, and residents' links to their plan.
    pub base_url: String,
    /// Serve `/dev/outbox` (to signed-in staff), the messages the dev sender took: on with
    /// `serve --demo`, never in production.
    pub dev_outbox: bool,
    /// Serve `/metrics` beside the other routes; off when [`metrics_router`] serves it on an
    /// address of its own.
    pub metrics: bool,
    /// The bearer tokens of the inbound hooks; a hook without one is not served.
    pub hooks: HookTokens,
    /// Set when the process starts stopping: `/readyz` then answers 503 and responses close
    /// their connections.
    pub draining: Draining,
}

impl Default for WebConfig {
    /// Local http: cookies without `Secure` (a browser would not send them back over http),
    /// staff sessions ending after a working day without use, a resident's answers kept for an
    /// hour, no proxy, `casework serve`'s address, not stopping.
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_idle: time::Duration::hours(8),
            request_idle: time::Duration::hours(1),
            client_ip_header: None,
            base_url: "http://127.0.0.1:8080".to_owned(),
            dev_outbox: false,
            metrics: true,
            hooks: HookTokens::default(),
            draining: Draining::default(),
        }
    }
}

/// The largest request body accepted, in bytes.
const BODY_LIMIT: usize = 1024 * 1024;
/// A request still running after this long is answered with 408 rather than left hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every route Casework serves, for the elements switched on, set up for local http.
pub fn router(app: App) -> Router {
    router_with(app, &WebConfig::default())
}

/// Every route Casework serves, for the elements switched on.
pub fn router_with(app: App, config: &WebConfig) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .merge(assets::router());
    if config.metrics {
        ops::prometheus();
        router = router.route("/metrics", get(ops::metrics));
    }
    if app.features().is_on(Feature::Api) {
        router = router.merge(api::router(app.features()));
    }
    if app.features().is_on(Feature::Worktray) {
        router = router.merge(staff(&app, config));
    }
    if app.features().is_on(Feature::Plan) || app.features().is_on(Feature::Intake) {
        router = router.merge(pages::resident::router(&app, config));
    }
    if app.features().is_on(Feature::Open311) {
        router = router.merge(open311::router());
    }
    // Inbound email may be larger than anything else sent to Casework: the hooks set their own
    // limits.
    router = router.layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    if app.features().is_on(Feature::Messaging) {
        router = router.merge(hooks::router(&config.hooks));
    }
    let router = router
        .with_state(app)
        .layer(Extension(BaseUrl(
            config.base_url.trim_end_matches('/').to_owned(),
        )))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(Extension(config.draining.clone()))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(middleware::from_fn(ops::record_metrics))
        .layer(middleware::from_fn_with_state(
            config.draining.clone(),
            ops::close_when_draining,
        ));
    observed(router)
}

/// Only `/metrics`, for an address of its own (`CASEWORK_METRICS_LISTEN`) that the public
/// load balancer does not reach.
pub fn metrics_router(app: App) -> Router {
    ops::prometheus();
    observed(
        Router::new()
            .route("/metrics", get(ops::metrics))
            .with_state(app),
    )
}

/// The outermost layers: a span with the request's id around everything the request logs,
/// and the id itself (the client's, if sane, or a new one), which the response echoes. The
/// last layer added runs first.
///
/// Every response gets one log line, with its status. A server error's cause is logged where it
/// is known; a second line for its status alone would cry "error" for what is expected, such as
/// `/readyz` answering 503 while the process drains.
fn observed(router: Router) -> Router {
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(ops::request_span)
                .on_request(())
                .on_response(ops::log_response)
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(ops::REQUEST_ID))
        .layer(SetRequestIdLayer::new(ops::REQUEST_ID, ops::NewRequestId))
        .layer(middleware::from_fn(ops::drop_odd_request_id))
}

/// The staff pages: inside the session layer, which finds the signed-in member of staff, and a
/// CSRF check on every form (a POST whose `Sec-Fetch-Site` or `Origin` shows another site is
/// refused before it reaches a handler or the session).
fn staff(app: &App, config: &WebConfig) -> Router<App> {
    let mut pages = pages::router();
    if app.features().is_on(Feature::Plan) {
        pages = pages.merge(pages::plan_router());
    }
    if app.features().is_on(Feature::Messaging) {
        pages = pages.merge(pages::messages_router(config.dev_outbox));
    }
    Router::new()
        .merge(sign_in::router())
        .merge(pages)
        .layer(auth::layer(app, config))
        .layer(Extension(auth::ClientIpHeader(
            config.client_ip_header.clone(),
        )))
        .layer(
            CsrfLayer::new().with_rejection_response(|error: ProtectionError| {
                tracing::warn!(%error, "refused a form sent from another site");
                auth::Forbidden::cross_site().into_response()
            }),
        )
}

/// [`WebConfig::base_url`] without a trailing `/`, for the pages and API answers that make
/// links to hand over.
#[derive(Debug, Clone)]
pub(crate) struct BaseUrl(pub String);
