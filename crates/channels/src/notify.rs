//! GOV.UK Notify: sending email and SMS through its API, and parsing its callbacks.
//!
//! See the crate documentation for the two templates a service must set up in Notify.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::limit::RateLimiter;
use crate::{ConfigError, OutChannel, Outgoing, ParseError, SendError, Sender, Sent};

/// Notify's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.notifications.service.gov.uk";

/// Notify allows 3,000 requests a minute per API key.
pub const REQUESTS_PER_MINUTE: usize = 3_000;

/// A second more than Notify's minute: a request leaves here before it arrives there, and
/// uneven network delays could otherwise squeeze 3,001 arrivals into Notify's minute.
const LIMIT_WINDOW: Duration = Duration::from_secs(61);

const UUID_LEN: usize = 36;

/// A Notify API key, `{key name}-{service id}-{secret key}`, where both ids are UUIDs and the
/// name may itself contain hyphens.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    service_id: String,
    secret: String,
}

impl ApiKey {
    pub fn parse(key: &str) -> Result<ApiKey, ConfigError> {
        let key = key.trim();
        let bad = |why: &str| ConfigError::NotifyKey(why.to_owned());
        // The layout is fixed from the end, so it is read from the end: whatever comes
        // before the service id is the key's name, hyphens, spaces or any other letters.
        fn split_end(text: &str) -> Option<(&str, &str)> {
            text.len()
                .checked_sub(UUID_LEN)
                .and_then(|at| text.split_at_checked(at))
        }
        let shape = || bad("expected {key name}-{service id}-{secret key}");
        let (rest, secret) = split_end(key).ok_or_else(shape)?;
        let rest = rest.strip_suffix('-').ok_or_else(shape)?;
        let (name, service_id) = split_end(rest).ok_or_else(shape)?;
        if !name.is_empty() && !name.ends_with('-') {
            return Err(shape());
        }
        for (what, part) in [("service id", service_id), ("secret key", secret)] {
            uuid::Uuid::try_parse(part).map_err(|_| bad(&format!("the {what} is not a UUID")))?;
        }
        Ok(ApiKey {
            service_id: service_id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    pub fn service_id(&self) -> &str {
        &self.service_id
    }

    /// The bearer token for one request: Notify refuses a token issued more than 30 seconds
    /// ago, so each request gets a new one.
    pub fn token(&self, now: OffsetDateTime) -> Result<String, SendError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: i64,
        }
        let claims = Claims {
            iss: &self.service_id,
            iat: now.unix_timestamp(),
        };
        let key = EncodingKey::from_secret(self.secret.as_bytes())
            .map_err(|e| SendError::Permanent(format!("cannot use the Notify secret key: {e}")))?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
            .map_err(|e| SendError::Permanent(format!("cannot sign a Notify token: {e}")))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("service_id", &self.service_id)
            .field("secret", &"(hidden)")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub api_key: ApiKey,
    /// [`DEFAULT_BASE_URL`] unless testing against another server.
    pub base_url: String,
    /// The SMS template whose message is `((body))`.
    pub sms_template_id: String,
    /// The email template whose subject is `((subject))` and message is `((body))`.
    pub email_template_id: String,
    /// The id of a reply-to address registered in Notify; Notify's default when absent.
    pub email_reply_to_id: Option<String>,
    /// The id of a text message sender registered in Notify; Notify's default when absent.
    pub sms_sender_id: Option<String>,
    /// How long to wait for Notify's answer before calling the attempt temporary.
    pub timeout: Duration,
    /// Requests allowed per minute; [`REQUESTS_PER_MINUTE`] unless the key has a lower limit.
    pub requests_per_minute: usize,
}

impl NotifyConfig {
    pub fn new(api_key: ApiKey, sms_template_id: String, email_template_id: String) -> Self {
        NotifyConfig {
            api_key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            sms_template_id,
            email_template_id,
            email_reply_to_id: None,
            sms_sender_id: None,
            timeout: Duration::from_secs(30),
            requests_per_minute: REQUESTS_PER_MINUTE,
        }
    }
}

/// Sends email and SMS through GOV.UK Notify's v2 API.
#[derive(Debug)]
pub struct NotifySender {
    config: NotifyConfig,
    client: reqwest::Client,
    limiter: RateLimiter,
}

impl NotifySender {
    pub fn new(config: NotifyConfig) -> Result<Self, ConfigError> {
        if config.requests_per_minute == 0 {
            return Err(ConfigError::Invalid(
                "Notify requests_per_minute must be at least 1".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("casework/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        let limiter = RateLimiter::new(config.requests_per_minute, LIMIT_WINDOW);
        Ok(NotifySender {
            config,
            client,
            limiter,
        })
    }

    fn request(&self, message: &Outgoing) -> Result<(&'static str, Value), SendError> {
        let config = &self.config;
        match message.channel {
            OutChannel::Sms => {
                let mut body = json!({
                    "phone_number": message.to,
                    "template_id": config.sms_template_id,
                    "personalisation": { "body": message.body },
                    "reference": message.reference,
                });
                if let Some(sender) = &config.sms_sender_id {
                    body["sms_sender_id"] = json!(sender);
                }
                Ok(("sms", body))
            }
            OutChannel::Email => {
                let subject = message
                    .subject
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| {
                        SendError::Permanent(
                            "an email sent through Notify needs a subject: its template's \
                             subject is ((subject))"
                                .into(),
                        )
                    })?;
                let mut body = json!({
                    "email_address": message.to,
                    "template_id": config.email_template_id,
                    "personalisation": { "subject": subject, "body": message.body },
                    "reference": message.reference,
                });
                if let Some(reply_to) = &config.email_reply_to_id {
                    body["email_reply_to_id"] = json!(reply_to);
                }
                Ok(("email", body))
            }
        }
    }
}

#[async_trait]
impl Sender for NotifySender {
    async fn send(&self, message: &Outgoing) -> Result<Sent, SendError> {
        let (kind, body) = self.request(message)?;
        let url = format!(
            "{}/v2/notifications/{kind}",
            self.config.base_url.trim_end_matches('/')
        );
        self.limiter.acquire().await;
        // Signed after the wait, so that a token never goes stale in the queue.
        let token = self.config.api_key.token(OffsetDateTime::now_utc())?;
        let response = self
            .client
            .post(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let bytes = response.bytes().await;
        if status.is_success() {
            // The message is on its way whatever the body says, so an unreadable body must not
            // become an error: the outbox would retry and send it twice.
            let provider_id = bytes
                .ok()
                .and_then(|b| serde_json::from_slice::<Created>(&b).ok())
                .map(|created| created.id);
            if provider_id.is_none() {
                tracing::warn!(reference = %message.reference, %status,
                    "Notify accepted the message but its answer had no id");
            }
            return Ok(Sent { provider_id });
        }
        let detail = match bytes {
            Ok(bytes) => error_detail(&bytes),
            Err(e) => format!("(unreadable body: {e})"),
        };
        let text = format!("Notify answered {status}: {detail}");
        Err(match status.as_u16() {
            429 | 500..=599 => SendError::Temporary(text),
            400..=499 => SendError::Permanent(text),
            _ => SendError::Temporary(text),
        })
    }

    /// Notify lists the notifications sent with a reference (`GET /v2/notifications?reference=`).
    async fn find_sent(&self, message: &Outgoing) -> Result<Option<Sent>, SendError> {
        let mut url = reqwest::Url::parse(&format!(
            "{}/v2/notifications",
            self.config.base_url.trim_end_matches('/')
        ))
        .map_err(|e| SendError::Permanent(format!("the Notify base URL is not a URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("reference", &message.reference);
        self.limiter.acquire().await;
        let token = self.config.api_key.token(OffsetDateTime::now_utc())?;
        let response = self
            .client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(request_error)?;
        if !status.is_success() {
            let text = format!(
                "Notify answered a look-up with {status}: {}",
                error_detail(&bytes)
            );
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                SendError::Temporary(text)
            } else {
                SendError::Permanent(text)
            });
        }
        // An unreadable list is a reason to ask again later, never to send again.
        let listed: Listed = serde_json::from_slice(&bytes).map_err(|e| {
            SendError::Temporary(format!("Notify's list of notifications is unreadable: {e}"))
        })?;
        Ok(listed
            .notifications
            .into_iter()
            .find(|n| n.reference.as_deref() == Some(message.reference.as_str()))
            .map(|n| Sent {
                provider_id: Some(n.id),
            }))
    }

    fn name(&self) -> &'static str {
        "notify"
    }
}

#[derive(Deserialize)]
struct Listed {
    notifications: Vec<ListedNotification>,
}

#[derive(Deserialize)]
struct ListedNotification {
    id: String,
    reference: Option<String>,
}

fn request_error(e: reqwest::Error) -> SendError {
    if e.is_builder() {
        SendError::Permanent(format!("cannot make a request to Notify: {e}"))
    } else {
        SendError::Temporary(format!("could not reach Notify: {e}"))
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Notify's errors are `{"status_code": 400, "errors": [{"error": "...", "message": "..."}]}`.
fn error_detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<NotifyError>,
    }
    #[derive(Deserialize)]
    struct NotifyError {
        error: String,
        message: String,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(parsed) if !parsed.errors.is_empty() => parsed
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.error, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => {
            let text = String::from_utf8_lossy(body);
            let mut text = text.trim().to_owned();
            if text.len() > 200 {
                let cut = (0..=200)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push('…');
            }
            text
        }
    }
}

/// Where a notification got to, as Notify's delivery receipts say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStatus {
    Created,
    Sending,
    Delivered,
    /// The provider could not deliver it: a wrong number or address. Do not retry.
    PermanentFailure,
    /// The phone was off or the inbox full for too long.
    TemporaryFailure,
    /// A problem between Notify and its provider.
    TechnicalFailure,
    /// A status this code does not know yet; kept so that the receipt is still accepted
    /// (Notify retries a callback that is refused) and the status logged.
    Other(String),
}

impl DeliveryStatus {
    fn from_notify(status: &str) -> DeliveryStatus {
        match status {
            "created" => DeliveryStatus::Created,
            "sending" => DeliveryStatus::Sending,
            "delivered" => DeliveryStatus::Delivered,
            "permanent-failure" => DeliveryStatus::PermanentFailure,
            "temporary-failure" => DeliveryStatus::TemporaryFailure,
            "technical-failure" => DeliveryStatus::TechnicalFailure,
            other => DeliveryStatus::Other(other.to_owned()),
        }
    }

    /// Notify's own name for the status.
    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Created => "created",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::PermanentFailure => "permanent-failure",
            DeliveryStatus::TemporaryFailure => "temporary-failure",
            DeliveryStatus::TechnicalFailure => "technical-failure",
            DeliveryStatus::Other(s) => s,
        }
    }

    /// Whether Notify will say nothing more about the notification.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DeliveryStatus::Delivered
                | DeliveryStatus::PermanentFailure
                | DeliveryStatus::TemporaryFailure
                | DeliveryStatus::TechnicalFailure
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationType {
    Email,
    Sms,
    Letter,
}

/// Notify's delivery-status callback: one notification's new status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// Notify's id, the [`Sent::provider_id`] it answered with.
    pub id: String,
    /// Our [`Outgoing::reference`], when one was sent.
    pub reference: Option<String>,
    pub to: String,
    pub status: DeliveryStatus,
    pub created_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
    pub notification_type: NotificationType,
}

impl DeliveryReceipt {
    pub fn parse(body: &[u8]) -> Result<DeliveryReceipt, ParseError> {
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            reference: Option<String>,
            to: String,
            status: String,
            created_at: String,
            completed_at: Option<String>,
            sent_at: Option<String>,
            notification_type: NotificationType,
        }
        let raw: Raw = from_json(body, "delivery receipt")?;
        Ok(DeliveryReceipt {
            id: raw.id,
            reference: raw.reference,
            to: raw.to,
            status: DeliveryStatus::from_notify(&raw.status),
            created_at: timestamp("created_at", &raw.created_at)?,
            completed_at: optional_timestamp("completed_at", raw.completed_at.as_deref())?,
            sent_at: optional_timestamp("sent_at", raw.sent_at.as_deref())?,
            notification_type: raw.notification_type,
        })
    }
}

/// Notify's received-text callback: a text a resident sent to the service's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedText {
    pub id: String,
    /// The resident's number, as Notify writes it (e.g. `447700900111`).
    pub source_number: String,
    pub destination_number: String,
    pub message: String,
    pub date_received: OffsetDateTime,
}

impl ReceivedText {
    pub fn parse(body: &[u8]) -> Result<ReceivedText, ParseError> {
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            source_number: String,
            destination_number: String,
            message: String,
            date_received: String,
        }
        let raw: Raw = from_json(body, "received text")?;
        Ok(ReceivedText {
            id: raw.id,
            source_number: raw.source_number,
            destination_number: raw.destination_number,
            message: raw.message,
            date_received: timestamp("date_received", &raw.date_received)?,
        })
    }
}

fn from_json<'a, T: Deserialize<'a>>(body: &'a [u8], what: &str) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(|e| ParseError::Json(format!("{what}: {e}")))
}

fn optional_timestamp(
    field: &str,
    value: Option<&str>,
) -> Result<Option<OffsetDateTime>, ParseError> {
    value.map(|v| timestamp(field, v)).transpose()
}

/// Notify writes UTC times as `2017-05-14T12:15:30.000000Z`; a time without an offset is
/// read as UTC too, as Notify means it.
fn timestamp(field: &str, value: &str) -> Result<OffsetDateTime, ParseError> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let naive = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    time::PrimitiveDateTime::parse(value, naive)
        .map(|t| t.assume_utc())
        .map_err(|_| ParseError::Json(format!("{field} is not a time: {value:?}")))
}
