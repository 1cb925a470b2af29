//! Where the process tells what it does: log lines on standard error, and, when
//! `CASEWORK_OTEL_ENDPOINT` is set, traces over OTLP/HTTP to an OpenTelemetry collector.
//!
//! A trace holds each request's span as the logs show it (method, matched route, request id,
//! status) with the log lines written inside it as the span's events: the same fields as the
//! logs, so no personal data.

use std::time::Duration;

use anyhow::Context;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::KeyValue;
use opentelemetry::context::FutureExt as _;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Config, LogFormat};

/// The log levels without `RUST_LOG`. The same filter chooses what goes into traces.
pub(crate) const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// OTLP/HTTP's path for traces, below the collector's address.
pub(crate) const TRACES_PATH: &str = "/v1/traces";

/// How long the exporter has, at exit, to send the spans it still holds.
const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// What must be shut down before the process exits: the trace exporter, if there is one.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

/// Installs the process's subscriber: logs always, traces when configured.
pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_LOG_FILTER.into());
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match config.log_format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    let traces = config
        .otel_endpoint
        .as_deref()
        .map(|endpoint| tracer_provider(endpoint, &config.otel_service_name))
        .transpose()?;
    let export = traces
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("casework")));
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(export)
        .init();
    Ok(Telemetry { traces })
}

/// Spans batched and sent from a thread of the SDK's own, by reqwest's blocking client: an async
/// client would need a tokio runtime on that thread.
fn tracer_provider(endpoint: &str, service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}{TRACES_PATH}"))
        .build()
        .context("CASEWORK_OTEL_ENDPOINT: could not set up the OTLP exporter")?;
    let resource = Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Continues the caller's trace: a request with a W3C `traceparent` header (from a gateway, or
/// another of the council's systems that traces) gets its span as a child of the caller's, in
/// the caller's trace; without one, or with one that does not parse, its span starts a trace.
/// The caller's sampling decision stands: a `traceparent` that says "not sampled" sends nothing.
pub(crate) async fn follow_caller(request: Request, next: Next) -> Response {
    let caller = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    // The request's span is made inside the router, when the request is first polled, with
    // whatever context is current then: so the caller's must be current at every poll.
    next.run(request).with_context(caller).await
}

impl Telemetry {
    /// Sends the spans still held (the last requests', at SIGTERM), waiting up to
    /// [`FLUSH_LIMIT`] for the collector.
    pub async fn shutdown(self) {
        let Some(provider) = self.traces else {
            return;
        };
        let flushed =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(FLUSH_LIMIT)).await;
        match flushed {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(
                %error,
                "could not send the last spans to CASEWORK_OTEL_ENDPOINT"
            ),
            Err(error) => tracing::warn!(%error, "the trace exporter did not stop cleanly"),
        }
    }
}
