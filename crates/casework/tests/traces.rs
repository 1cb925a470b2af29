//! Traces over OTLP/HTTP: the real `casework serve` sends its request spans to a stand-in
//! OpenTelemetry collector that decodes OTLP's protobuf as a collector does, and sends the last
//! of them when it stops.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use casework_store::testing::TestDatabase;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::json;
use support::{Process, casework, client, missed_bin};

const NOTIFY_TOKEN: &str = "notify-callback-token-for-the-traces-test";
const STAFF_MESSAGE: &str = "We will collect your recycling on Thursday.";
const RESIDENT_REPLY: &str = "Thanks, I will leave it by the gate at number 12";
/// A caller's trace and span, as a W3C `traceparent` names them (sampled).
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// What the stand-in collector received: each export request, decoded.
#[derive(Clone, Default)]
struct Collector {
    received: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

impl Collector {
    /// Listens on a random loopback port; returns its address.
    async fn start(&self) -> String {
        let router = Router::new()
            .route("/v1/traces", post(export))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for request in self.received.lock().unwrap().iter() {
            for resource_spans in &request.resource_spans {
                let resource = resource_spans
                    .resource
                    .as_ref()
                    .map(|r| texts(&r.attributes))
                    .unwrap_or_default();
                for scope_spans in &resource_spans.scope_spans {
                    for span in &scope_spans.spans {
                        spans.push(Span {
                            resource: resource.clone(),
                            trace_id: hex(&span.trace_id),
                            parent_span_id: hex(&span.parent_span_id),
                            name: span.name.clone(),
                            kind: span.kind,
                            attributes: texts(&span.attributes),
                            events: span
                                .events
                                .iter()
                                .map(|event| (event.name.clone(), texts(&event.attributes)))
                                .collect(),
                        });
                    }
                }
            }
        }
        spans
    }
}

/// OTLP/HTTP's trace export: a protobuf `ExportTraceServiceRequest` in, an
/// `ExportTraceServiceResponse` out.
async fn export(State(collector): State<Collector>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()) != Some(b"application/x-protobuf") {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    collector.received.lock().unwrap().push(request);
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

/// A span as exported, its attribute values as text.
#[derive(Debug)]
struct Span {
    resource: Vec<(String, String)>,
    trace_id: String,
    /// Empty for a span that starts its trace.
    parent_span_id: String,
    name: String,
    kind: i32,
    attributes: Vec<(String, String)>,
    events: Vec<(String, Vec<(String, String)>)>,
}

impl Span {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Everything the span says, for looking for what it must not.
    fn all_text(&self) -> String {
        let mut text = format!("{}\n", self.name);
        let attributes = self
            .resource
            .iter()
            .chain(&self.attributes)
            .chain(self.events.iter().flat_map(|(_, attributes)| attributes));
        for (key, value) in attributes {
            text.push_str(&format!("{key}={value}\n"));
        }
        for (name, _) in &self.events {
            text.push_str(&format!("{name}\n"));
        }
        text
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn texts(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::StringValueStrindex(index)) => index.to_string(),
        Some(Value::BytesValue(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(Value::ArrayValue(array)) => {
            array.values.iter().map(text).collect::<Vec<_>>().join(",")
        }
        Some(Value::KvlistValue(list)) => texts(&list.values)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        None => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_reach_the_collector_with_route_status_and_id_and_no_personal_data() {
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let database = TestDatabase::sqlite();
    let key = support::api_key(&database.url);
    let mut command = casework(&database.url);
    command
        .env("RUST_LOG", "info")
        .env("CASEWORK_OTEL_ENDPOINT", &endpoint)
        .env("CASEWORK_OTEL_SERVICE_NAME", "casework-traces-test")
        .env("CASEWORK_NOTIFY_CALLBACK_TOKEN", NOTIFY_TOKEN)
        .env("CASEWORK_SHUTDOWN_DELAY", "0")
        // Spans wait in the exporter's batch until the process stops: those that arrive were
        // sent at SIGTERM.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000");
    let mut replica = Process::serve(command);
    let url = replica.url.clone();
    let client = client();

    let created = client
        .post(format!("{url}/api/v1/cases"))
        .bearer_auth(&key)
        .header("x-request-id", "trace-create-0001")
        .json(&missed_bin())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let case: serde_json::Value = created.json().await.unwrap();
    let reference = case["reference"].as_str().unwrap().to_owned();
    let search = client
        .get(format!("{url}/api/v1/cases?q=Amira%20Khan"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), 200);
    let sent = client
        .post(format!("{url}/api/v1/cases/{reference}/messages"))
        .bearer_auth(&key)
        .json(&json!({ "channel": "sms", "body": STAFF_MESSAGE }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let reply = client
        .post(format!("{url}/hooks/notify/received-text"))
        .bearer_auth(NOTIFY_TOKEN)
        .header("x-request-id", "trace-reply-0001")
        .json(&json!({
            "id": "a3c1d2e4-0000-4000-8000-000000000001",
            "source_number": "447700900123",
            "destination_number": "07700900000",
            "message": RESIDENT_REPLY,
            "date_received": "2026-12-04T10:00:00.000000Z",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let missing = client
        .get(format!("{url}/api/v1/cases/CW-999999"))
        .bearer_auth(&key)
        .header("x-request-id", "trace-missing-0001")
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(
        collector.spans().is_empty(),
        "spans were sent before the batch was due"
    );

    replica.signal("TERM");
    let status = replica
        .wait_for_exit(Duration::from_secs(20))
        .expect("stopped");
    assert!(status.success(), "exit status {status}");
    let spans = collector.spans();
    assert!(spans.len() >= 5, "{spans:#?}");

    let by_id = |id: &str| {
        spans
            .iter()
            .find(|span| span.attribute("request_id") == Some(id))
            .unwrap_or_else(|| panic!("no span with request id {id} in {spans:#?}"))
    };
    let create = by_id("trace-create-0001");
    assert_eq!(create.name, "POST /api/v1/cases");
    assert_eq!(create.kind, SpanKind::Server as i32);
    assert_eq!(create.attribute("route"), Some("/api/v1/cases"));
    assert_eq!(create.attribute("method"), Some("POST"));
    assert_eq!(create.attribute("status"), Some("201"));
    assert!(
        create
            .resource
            .contains(&("service.name".into(), "casework-traces-test".into())),
        "{create:#?}"
    );
    assert!(
        create.events.iter().any(|(name, _)| name == "answered"),
        "the log line at the request's end is the span's event: {create:#?}"
    );
    let reply = by_id("trace-reply-0001");
    assert_eq!(
        reply.attribute("route"),
        Some("/hooks/notify/received-text")
    );
    assert_eq!(reply.attribute("status"), Some("201"));
    let missing = by_id("trace-missing-0001");
    assert_eq!(
        missing.attribute("route"),
        Some("/api/v1/cases/{reference}")
    );
    assert_eq!(missing.attribute("status"), Some("404"));
    assert_eq!(
        (missing.trace_id.as_str(), missing.parent_span_id.as_str()),
        (CALLER_TRACE, CALLER_SPAN),
        "a request with a traceparent continues the caller's trace"
    );
    assert_eq!(
        create.parent_span_id, "",
        "without one, a request starts a trace"
    );
    assert_ne!(
        create.trace_id, reply.trace_id,
        "each request its own trace"
    );
    for span in &spans {
        assert!(
            span.attribute("request_id")
                .is_some_and(|id| !id.is_empty()),
            "{span:#?}"
        );
    }

    let resident = missed_bin();
    let everything = spans.iter().map(Span::all_text).collect::<String>();
    let lower = everything.to_lowercase();
    for secret in [
        resident["contact"]["name"].as_str().unwrap(),
        "Amira",
        resident["contact"]["email"].as_str().unwrap(),
        resident["contact"]["phone"].as_str().unwrap(),
        "07700900123",
        "447700900123",
        resident["description"].as_str().unwrap(),
        "12 Mill Lane",
        STAFF_MESSAGE,
        RESIDENT_REPLY,
        NOTIFY_TOKEN,
        &key,
    ] {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "the spans hold {secret:?}:\n{everything}"
        );
    }
}
