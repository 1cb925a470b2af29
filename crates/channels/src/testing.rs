//! Stand-ins for the providers, for tests in this crate and others (the `testing` feature): a
//! local HTTP server that speaks GOV.UK Notify's v2 API, and a small but real SMTP server. Both
//! listen on a random loopback port and keep what they were given, so that a test can count
//! what was sent, even when the sender is another process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The stand-in's Notify service id; [`notify_api_key`] holds it.
pub const SERVICE_ID: &str = "26785a09-ab16-4eb0-8407-a37497a57506";
/// The secret half of [`notify_api_key`], which the stand-in checks tokens against.
pub const SECRET: &str = "3d844edf-8d35-48ac-975b-e847b4f122b0";
/// The SMS template the stand-in expects.
pub const SMS_TEMPLATE: &str = "f33517ff-2a88-4f6e-b855-c550268ce08a";
/// The email template the stand-in expects.
pub const EMAIL_TEMPLATE: &str = "a4f8b1c2-51a5-4d3e-8c0f-2b8e3b9d0e11";

/// A Notify API key the stand-in accepts. Its name has hyphens of its own, as real key names
/// often do.
pub fn notify_api_key() -> String {
    format!("casework-live-key-{SERVICE_ID}-{SECRET}")
}

/// How the Notify stand-in answers a new notification.
#[derive(Debug, Clone)]
pub enum NotifyAnswer {
    /// Check the token and the body, and accept.
    Accept,
    /// Refuse with this status and Notify's error body (`error`, `message`).
    Fail(StatusCode, &'static str, &'static str),
}

/// A notification the stand-in was asked to send: its kind (`sms`, `email`), the request body,
/// and the id it was given if it was accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub kind: String,
    pub body: Value,
    pub id: Option<String>,
}

impl Received {
    pub fn reference(&self) -> Option<&str> {
        self.body["reference"].as_str()
    }
}

#[derive(Debug)]
struct NotifyState {
    answer: NotifyAnswer,
    /// How long to hold each answer after recording the notification: a provider that has
    /// taken a message but not yet said so.
    delay: Duration,
    received: Vec<Received>,
    lookups: usize,
}

/// A local server speaking Notify's v2 API: it checks the JWT as Notify does (HS256 with the
/// key's secret, `iss` = service id, `iat` within 30 seconds) and the request body, answers
/// with Notify's shapes, and lists accepted notifications by `reference`
/// (`GET /v2/notifications?reference=`).
#[derive(Debug, Clone)]
pub struct NotifyStandIn {
    pub url: String,
    state: Arc<Mutex<NotifyState>>,
}

impl NotifyStandIn {
    /// Starts one on a random loopback port, in the current tokio runtime.
    pub async fn start(answer: NotifyAnswer) -> NotifyStandIn {
        let state = Arc::new(Mutex::new(NotifyState {
            answer,
            delay: Duration::ZERO,
            received: Vec::new(),
            lookups: 0,
        }));
        let router = Router::new()
            .route("/v2/notifications/{kind}", post(notification))
            .route("/v2/notifications", get(notifications))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let address = listener.local_addr().expect("a bound address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        NotifyStandIn {
            url: format!("http://{address}"),
            state,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, NotifyState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_answer(&self, answer: NotifyAnswer) {
        self.state().answer = answer;
    }

    /// Holds every answer this long after the notification is recorded.
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// Every notification asked for, accepted or not, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// How many notifications were accepted for each reference.
    pub fn accepted_by_reference(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for received in self.state().received.iter().filter(|r| r.id.is_some()) {
            if let Some(reference) = received.reference() {
                *counts.entry(reference.to_owned()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// How many times notifications were looked up by reference.
    pub fn lookups(&self) -> usize {
        self.state().lookups
    }
}

type Shared = Arc<Mutex<NotifyState>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, NotifyState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
}

fn notify_error(status: StatusCode, error: &str, message: &str) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({
            "status_code": status.as_u16(),
            "errors": [{ "error": error, "message": message }],
        })),
    )
}

fn check_token(headers: &HeaderMap) -> Result<(), String> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or("no Authorization header")?;
    let token = header.strip_prefix("Bearer ").ok_or("not a bearer token")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = DecodingKey::from_secret(SECRET.as_bytes()).map_err(|e| e.to_string())?;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| format!("signature: {e}"))?
        .claims;
    if claims.iss != SERVICE_ID {
        return Err(format!("iss is {}", claims.iss));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - claims.iat).abs() > 30 {
        return Err("iat is not within 30 seconds of now".into());
    }
    Ok(())
}

fn check_body(kind: &str, body: &Value) -> Result<(), String> {
    let text = |field: &str| body[field].as_str().filter(|s| !s.is_empty()).is_some();
    let (to, template) = match kind {
        "sms" => ("phone_number", SMS_TEMPLATE),
        "email" => ("email_address", EMAIL_TEMPLATE),
        other => return Err(format!("no such notification type {other}")),
    };
    if !text(to) || !text("reference") {
        return Err(format!("{to} and reference are required"));
    }
    if body["template_id"] != template {
        return Err("template_id is not the channel's template".into());
    }
    if body["personalisation"]["body"].as_str().is_none() {
        return Err("Missing personalisation: body".into());
    }
    if kind == "email" && body["personalisation"]["subject"].as_str().is_none() {
        return Err("Missing personalisation: subject".into());
    }
    Ok(())
}

async fn notification(
    State(state): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let checked = check_token(&headers)
        .map_err(|why| {
            notify_error(
                StatusCode::FORBIDDEN,
                "AuthError",
                &format!("Invalid token: {why}"),
            )
        })
        .and_then(|()| match lock(&state).answer {
            NotifyAnswer::Fail(status, error, message) => Err(notify_error(status, error, message)),
            NotifyAnswer::Accept => Ok(()),
        })
        .and_then(|()| {
            check_body(&kind, &body)
                .map_err(|why| notify_error(StatusCode::BAD_REQUEST, "BadRequestError", &why))
        });
    let id = checked.is_ok().then(|| uuid::Uuid::now_v7().to_string());
    let delay = {
        let mut state = lock(&state);
        state.received.push(Received {
            kind: kind.clone(),
            body: body.clone(),
            id: id.clone(),
        });
        state.delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Err(refused) = checked {
        return refused;
    }
    let content = if kind == "sms" {
        json!({ "body": body["personalisation"]["body"], "from_number": "Council" })
    } else {
        json!({
            "body": body["personalisation"]["body"],
            "subject": body["personalisation"]["subject"],
            "from_email": "repairs@council.gov.uk",
        })
    };
    let id = id.unwrap_or_default();
    (
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "reference": body["reference"],
            "content": content,
            "uri": format!("https://notify.test/v2/notifications/{id}"),
            "template": { "id": body["template_id"], "version": 1, "uri": "https://notify.test/t" },
        })),
    )
}

#[derive(Deserialize)]
struct Lookup {
    reference: Option<String>,
}

/// Notify's list of notifications, newest first, filtered by reference as Notify filters it.
async fn notifications(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(lookup): Query<Lookup>,
) -> (StatusCode, Json<Value>) {
    if let Err(why) = check_token(&headers) {
        return notify_error(
            StatusCode::FORBIDDEN,
            "AuthError",
            &format!("Invalid token: {why}"),
        );
    }
    let mut state = lock(&state);
    state.lookups += 1;
    let found: Vec<Value> = state
        .received
        .iter()
        .rev()
        .filter(|r| r.id.is_some())
        .filter(|r| lookup.reference.is_none() || r.reference() == lookup.reference.as_deref())
        .map(|r| {
            json!({
                "id": r.id,
                "reference": r.reference(),
                "type": r.kind,
                "status": "created",
                "template": { "id": r.body["template_id"], "version": 1 },
            })
        })
        .collect();
    (
        StatusCode::OK,
        Json(json!({ "notifications": found, "links": { "current": "/v2/notifications" } })),
    )
}

/// What the SMTP stand-in received in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, with the client's dot-stuffing undone.
    pub data: String,
}

impl Envelope {
    /// The message's `Message-ID` header, without its angle brackets.
    pub fn message_id(&self) -> Option<&str> {
        self.data.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().trim_start_matches('<').trim_end_matches('>'))
        })
    }
}

/// A small but real SMTP server: it speaks EHLO/MAIL/RCPT/DATA/QUIT with real reply codes and
/// keeps what it was given. It offers no STARTTLS.
#[derive(Debug, Clone)]
pub struct SmtpStandIn {
    pub port: u16,
    received: Arc<Mutex<Vec<Envelope>>>,
}

impl SmtpStandIn {
    /// Starts one on a random loopback port that answers RCPT TO with `rcpt_reply` (such as
    /// `250 2.1.5 OK`, or a refusal).
    pub async fn start(rcpt_reply: &'static str) -> SmtpStandIn {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, rcpt_reply, kept.clone()));
            }
        });
        SmtpStandIn { port, received }
    }

    pub fn received(&self) -> Vec<Envelope> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn session(stream: TcpStream, rcpt_reply: &'static str, received: Arc<Mutex<Vec<Envelope>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async |text: &str| {
        write
            .write_all(format!("{text}\r\n").as_bytes())
            .await
            .is_ok()
    };
    if !reply("220 localhost ESMTP test").await {
        return;
    }
    let mut envelope = Envelope::default();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            "250-localhost\r\n250 8BITMIME"
        } else if upper.starts_with("HELO") {
            "250 localhost"
        } else if upper.starts_with("MAIL FROM:") {
            envelope = Envelope {
                mail_from: line[10..].trim().to_owned(),
                ..Envelope::default()
            };
            "250 2.1.0 OK"
        } else if upper.starts_with("RCPT TO:") {
            if rcpt_reply.starts_with("250") {
                envelope.rcpt_to.push(line[8..].trim().to_owned());
            }
            rcpt_reply
        } else if upper == "DATA" {
            if envelope.rcpt_to.is_empty() {
                "554 5.5.1 No valid recipients"
            } else {
                if !reply("354 End data with <CR><LF>.<CR><LF>").await {
                    return;
                }
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push_str("\r\n");
                }
                envelope.data = data;
                received
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(envelope.clone());
                "250 2.0.0 OK queued"
            }
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 OK"
        } else if upper == "QUIT" {
            reply("221 2.0.0 Bye").await;
            return;
        } else {
            "502 5.5.2 Command not recognised"
        };
        if !reply(answer).await {
            return;
        }
    }
}
