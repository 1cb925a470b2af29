//! Where the process tells what it does: log lines on standard error, and, when
//! `CASEWORK_OTEL_ENDPOINT` is set, traces over OTLP/HTTP to an OpenTelemetry collector.
//!
//! A trace holds each request's span as the logs show it (method, matched route, request id,
//! status) with the log lines written inside it as the span's events: the same fields as the
//! logs, so no personal data.

use std::time::Duration;

use anyhow::Context;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
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
