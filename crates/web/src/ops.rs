//! Operating Casework: the probes, the Prometheus metrics, the request id and span that every
//! log line of a request carries, and draining the connections of a stopping process.
//!
//! The span names the route as the router matched it (`/plan/{token}`), never the path the
//! client sent: paths carry residents' plan tokens and staff's set-password tokens, and query
//! strings carry search terms such as names.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use casework_app::{App, Readiness};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client; a longer one is replaced.
const MAX_REQUEST_ID: usize = 128;

/// The route label of a request that matched no route: one label, not one per path tried.
const UNMATCHED: &str = "unmatched";

/// Upper bounds of the request duration histogram's buckets, in seconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process is up.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Whether the process is stopping and draining its connections: set on SIGTERM, for the delay
/// before the server stops taking connections. Clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// From now on `/readyz` answers 503 and every HTTP/1 response closes its connection, so
    /// that load balancers stop sending here and clients open their next connection to another
    /// replica, while this one still answers whatever reaches it.
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The process can serve: not stopping, services loaded, the database answering, its schema
/// current.
pub(crate) async fn readyz(
    State(app): State<App>,
    Extension(draining): Extension<Draining>,
) -> (StatusCode, String) {
    if draining.is_on() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: stopping".to_owned(),
        );
    }
    match app.readiness().await {
        Readiness::Ready => (StatusCode::OK, "ready".to_owned()),
        Readiness::NotReady(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}"),
        ),
    }
}

/// The metrics in Prometheus' text format. The job queue's depth is read now, as it is scraped.
pub(crate) async fn metrics(State(app): State<App>) -> Response {
    match app.pending_job_count().await {
        Ok(pending) => metrics::gauge!("casework_jobs_pending").set(pending as f64),
        Err(error) => tracing::warn!(%error, "could not count the pending jobs for /metrics"),
    }
    let pool = app.pool_use();
    metrics::gauge!("casework_db_connections", "state" => "in_use")
        .set(f64::from(pool.open.saturating_sub(pool.idle)));
    metrics::gauge!("casework_db_connections", "state" => "idle").set(f64::from(pool.idle));
    let handle = prometheus();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// The process's one Prometheus recorder, installed as the `metrics` crate's global recorder
/// the first time it is asked for. Every router in the process renders the same one: metrics
/// are the process's, not a router's.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".to_owned()),
                &DURATION_BUCKETS,
            )
            .unwrap_or_else(|_| unreachable!("the bucket list is not empty"))
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics will stay empty");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route"
    );
    metrics::describe_gauge!(
        "casework_jobs_pending",
        "Jobs waiting to run, due or not (read when scraped)"
    );
    metrics::describe_counter!(
        "casework_job_runs_total",
        "Jobs run by this process's worker, by kind and outcome (done, later, retry, failed)"
    );
    metrics::describe_counter!(
        "casework_sla_breaches_total",
        "Cases this process's worker found past their SLA due time"
    );
    metrics::describe_gauge!(
        "casework_db_connections",
        "Database connections this process holds open, in use or idle (read when scraped)"
    );
    metrics::describe_counter!(
        "casework_messages_total",
        "Messages by channel and outcome: sent (the provider took it), delivered, failed, received"
    );
    metrics::describe_counter!(
        "casework_webhook_deliveries_total",
        "Webhook delivery attempts by this process's worker, by outcome (delivered, retry, failed)"
    );
    // Shown from the start, so that a rate over it works before the first breach.
    metrics::counter!("casework_sla_breaches_total").increment(0);
}

/// Counts each request and times it, by its matched route.
pub(crate) async fn record_metrics(request: Request, next: Next) -> Response {
    let route = route(&request).to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    metrics::counter!(
        "http_requests_total",
        "method" => method,
        "route" => route.clone(),
        "status" => response.status().as_u16().to_string(),
    )
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    response
}

/// While draining, tells each HTTP/1 client to close its connection after this response: kept
/// alive, the connection would carry a later request here just as the server closes it, and
/// that request would meet a reset. HTTP/2 has no such header; its clients get a GOAWAY when
/// the server stops.
pub(crate) async fn close_when_draining(
    State(draining): State<Draining>,
    request: Request,
    next: Next,
) -> Response {
    let http1 = request.version() < Version::HTTP_2;
    let mut response = next.run(request).await;
    if http1 && draining.is_on() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A method's label; methods outside HTTP's own are one label, so that clients cannot make
/// new series at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn route<B>(request: &axum::http::Request<B>) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

/// The span around a request: its method, matched route and id, and its status once answered.
/// No path, no query string. The `otel.` fields name and mark the span as a server's in
/// exported traces, where every span would otherwise be called `request`.
pub(crate) fn request_span<B>(request: &axum::http::Request<B>) -> Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let route = route(request);
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id = id,
        status = tracing::field::Empty,
        otel.name = %format_args!("{} {route}", request.method()),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
    )
}

/// Drops a client's request id that is empty, too long or holds anything but letters, digits
/// and `-_.:`, so that a new one is made in its place: the id goes into every log line.
pub(crate) async fn drop_odd_request_id(mut request: Request, next: Next) -> Response {
    let sane = request
        .headers()
        .get(REQUEST_ID)
        .is_none_or(|value| is_sane_request_id(value.as_bytes()));
    if !sane {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

fn is_sane_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// New request ids are UUID v7: unique across replicas, and they sort by time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// The request's status on its span, and its latency for the log line at its end. A server
/// error marks the span as failed in exported traces.
pub(crate) fn log_response(response: &Response, latency: Duration, span: &Span) {
    span.record("status", i64::from(response.status().as_u16()));
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "answered"
    );
}

#[cfg(test)]
mod tests {
    use super::is_sane_request_id;

    #[test]
    fn request_ids_from_clients_are_checked() {
        assert!(is_sane_request_id(b"0193a5c2-7d1e-7c3a-9f00-1234567890ab"));
        assert!(is_sane_request_id(b"lb:abc.123_x"));
        assert!(!is_sane_request_id(b""));
        assert!(!is_sane_request_id(b"a b"));
        assert!(!is_sane_request_id(b"name=Amira\"Khan"));
        assert!(!is_sane_request_id(&[b'a'; 129]));
    }
}
