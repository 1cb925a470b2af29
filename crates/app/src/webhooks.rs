//! Outbound webhooks: admins register endpoints that other systems listen on, and the worker
//! posts each delivery the store queued with its event, signed, retrying with the job system's
//! backoff until [`MAX_ATTEMPTS`] and then marking it failed.
//!
//! An endpoint's host must be on the public internet unless the admin allowed otherwise: it is
//! checked when the endpoint is registered and again before every attempt, since DNS can change,
//! and each request goes only to the addresses that were checked.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casework_channels::webhook::{WebhookPost, post_webhook};
use casework_domain::service::answers::FieldError;
use casework_domain::webhook::{
    EndpointUrl, MAX_ATTEMPTS, Payload, PayloadCase, SIGNATURE_HEADER, UrlProblem, WebhookEvent,
    is_public, signature_header,
};
use casework_store::{
    DeliveryAttempt, DeliveryStatus, DeliveryWork, NewWebhookEndpoint, StoreError, WebhookDelivery,
    WebhookEndpoint,
};
use rand::RngCore;

use crate::jobs::JobOutcome;
use crate::staff::require_admin;
use crate::{App, AppError, Caller};

/// How long an endpoint has to answer, unless the app is told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const SECRET_PREFIX: &str = "whsec_";
const MAX_DESCRIPTION: usize = 200;
/// How many of an endpoint's deliveries its page lists.
pub const RECENT_DELIVERIES: u32 = 50;

/// An endpoint as an admin asks for it, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewWebhookRequest {
    pub url: String,
    pub description: String,
    /// A service's code, or `None` for every service.
    pub service: Option<String>,
    /// Webhook event names, such as `case.created`.
    pub events: Vec<String>,
    pub allow_private: bool,
}

/// An endpoint just registered, with the secret it signs with: shown to the admin this once.
#[derive(Debug)]
pub struct NewWebhook {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

impl App {
    /// The same app giving endpoints `timeout` to answer.
    pub fn with_webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhook_timeout = timeout;
        self
    }

    /// Registers an endpoint, after checking what was asked for; every problem is a
    /// [`FieldError`] named after its field.
    pub async fn add_webhook(
        &self,
        by: &Caller,
        request: NewWebhookRequest,
    ) -> Result<NewWebhook, AppError> {
        require_admin(by)?;
        let mut problems = Vec::new();
        let url = match EndpointUrl::parse(&request.url, request.allow_private) {
            Ok(url) if request.allow_private => Some(url),
            Ok(url) => match resolve_public(&url).await {
                Ok(_) => Some(url),
                Err(problem) => {
                    problems.push(FieldError::new("url", problem.message()));
                    None
                }
            },
            Err(problem) => {
                problems.push(FieldError::new("url", problem.to_string()));
                None
            }
        };
        let description = request.description.trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION {
            problems.push(FieldError::new(
                "description",
                format!("Description must be {MAX_DESCRIPTION} characters or fewer"),
            ));
        }
        let service = request.service.filter(|code| !code.is_empty());
        if let Some(code) = &service
            && self.services.get(code).is_none()
        {
            problems.push(FieldError::new("service", "Choose a service from the list"));
        }
        let mut events = Vec::new();
        for name in &request.events {
            match name.parse::<WebhookEvent>() {
                Ok(event) if !events.contains(&event) => events.push(event),
                Ok(_) => {}
                Err(_) => {
                    problems.push(FieldError::new("events", "Choose events from the list"));
                    break;
                }
            }
        }
        if request.events.is_empty() {
            problems.push(FieldError::new(
                "events",
                "Choose at least one event to send",
            ));
        }
        let Some(url) = url.filter(|_| problems.is_empty()) else {
            return Err(AppError::Invalid(problems));
        };
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let endpoint = self
            .store
            .insert_webhook_endpoint(&NewWebhookEndpoint {
                url: url.to_string(),
                description,
                service,
                events,
                secret: secret.clone(),
                allow_private: request.allow_private,
                created_at: self.now(),
            })
            .await?;
        tracing::info!(endpoint = endpoint.id, by = %by.actor, "webhook endpoint added");
        Ok(NewWebhook { endpoint, secret })
    }

    pub async fn webhooks(&self, by: &Caller) -> Result<Vec<WebhookEndpoint>, AppError> {
        require_admin(by)?;
        Ok(self.store.webhook_endpoints().await?)
    }

    /// An endpoint with its latest deliveries, newest first.
    pub async fn webhook(
        &self,
        by: &Caller,
        id: i64,
    ) -> Result<(WebhookEndpoint, Vec<WebhookDelivery>), AppError> {
        require_admin(by)?;
        let endpoint = self
            .store
            .webhook_endpoint(id)
            .await?
            .ok_or(AppError::WebhookNotFound(id))?;
        let deliveries = self.store.webhook_deliveries(id, RECENT_DELIVERIES).await?;
        Ok((endpoint, deliveries))
    }

    /// Starts or stops new deliveries to an endpoint. Deliveries already queued for a stopped
    /// endpoint are not sent: they are marked failed when their turn comes.
    pub async fn enable_webhook(
        &self,
        by: &Caller,
        id: i64,
        enabled: bool,
    ) -> Result<(), AppError> {
        require_admin(by)?;
        self.store
            .set_webhook_endpoint_enabled(id, enabled)
            .await
            .map_err(|e| not_found(e, id))?;
        tracing::info!(endpoint = id, enabled, by = %by.actor, "webhook endpoint changed");
        Ok(())
    }

    pub async fn remove_webhook(&self, by: &Caller, id: i64) -> Result<(), AppError> {
        require_admin(by)?;
        self.store
            .delete_webhook_endpoint(id)
            .await
            .map_err(|e| not_found(e, id))?;
        tracing::info!(endpoint = id, by = %by.actor, "webhook endpoint removed");
        Ok(())
    }

    /// Queues a new attempt at one of an endpoint's deliveries, whatever became of the last.
    pub async fn resend_webhook(
        &self,
        by: &Caller,
        endpoint: i64,
        delivery: i64,
    ) -> Result<(), AppError> {
        require_admin(by)?;
        self.store
            .resend_webhook_delivery(endpoint, delivery, self.now())
            .await
            .map_err(|e| not_found(e, endpoint))
    }

    /// Runs one attempt at a delivery; `attempt` counts this one.
    pub(crate) async fn deliver_webhook(
        &self,
        id: i64,
        attempt: i32,
    ) -> Result<JobOutcome, AppError> {
        let Some(work) = self.store.webhook_delivery_work(id).await? else {
            // Its endpoint was removed.
            return Ok(JobOutcome::Done);
        };
        if work.delivery.status != DeliveryStatus::Pending {
            return Ok(JobOutcome::Done);
        }
        if !work.enabled {
            return self
                .end_delivery(
                    id,
                    None,
                    "The endpoint was disabled before this was sent".into(),
                )
                .await;
        }
        let url = match EndpointUrl::parse(&work.url, work.allow_private) {
            Ok(url) => url,
            Err(problem) => return self.end_delivery(id, None, problem.to_string()).await,
        };
        let addresses = match self.addresses(&url, work.allow_private).await {
            Ok(addresses) => addresses,
            Err(problem) => {
                return self
                    .failed_attempt(id, attempt, None, problem.message())
                    .await;
            }
        };
        let now = self.now();
        let body = payload(&work).to_json();
        let post = WebhookPost {
            url: url.as_str(),
            host: &url.host(),
            addresses: &addresses,
            headers: vec![
                (
                    SIGNATURE_HEADER,
                    signature_header(&work.secret, now.unix_timestamp(), &body),
                ),
                ("Casework-Event", work.delivery.event.as_str().to_owned()),
                ("Casework-Delivery", id.to_string()),
            ],
            body,
            timeout: self.webhook_timeout,
        };
        match post_webhook(post).await {
            Ok(status) if (200..300).contains(&status) => {
                let delivered = DeliveryAttempt {
                    status: DeliveryStatus::Delivered,
                    http_status: Some(i32::from(status)),
                    error: None,
                    at: self.now(),
                };
                self.store.record_webhook_attempt(id, &delivered).await?;
                metrics::counter!("casework_webhook_deliveries_total", "outcome" => "delivered")
                    .increment(1);
                Ok(JobOutcome::Done)
            }
            Ok(status) => {
                let error = format!("The endpoint answered {status}");
                self.failed_attempt(id, attempt, Some(i32::from(status)), error)
                    .await
            }
            Err(error) => {
                self.failed_attempt(id, attempt, None, error.to_string())
                    .await
            }
        }
    }

    /// Records an attempt that failed: retried until the last attempt, then failed for good.
    async fn failed_attempt(
        &self,
        id: i64,
        attempt: i32,
        http_status: Option<i32>,
        error: String,
    ) -> Result<JobOutcome, AppError> {
        if attempt >= MAX_ATTEMPTS {
            return self.end_delivery(id, http_status, error).await;
        }
        let retry = DeliveryAttempt {
            status: DeliveryStatus::Pending,
            http_status,
            error: Some(error.clone()),
            at: self.now(),
        };
        self.store.record_webhook_attempt(id, &retry).await?;
        metrics::counter!("casework_webhook_deliveries_total", "outcome" => "retry").increment(1);
        Ok(JobOutcome::Retry(error))
    }

    async fn end_delivery(
        &self,
        id: i64,
        http_status: Option<i32>,
        error: String,
    ) -> Result<JobOutcome, AppError> {
        let failed = DeliveryAttempt {
            status: DeliveryStatus::Failed,
            http_status,
            error: Some(error.clone()),
            at: self.now(),
        };
        self.store.record_webhook_attempt(id, &failed).await?;
        metrics::counter!("casework_webhook_deliveries_total", "outcome" => "failed").increment(1);
        Ok(JobOutcome::Failed(format!(
            "webhook delivery {id}: {error}"
        )))
    }

    /// Where to connect for `url`: what its host resolves to, all public unless allowed not to be.
    async fn addresses(
        &self,
        url: &EndpointUrl,
        allow_private: bool,
    ) -> Result<Vec<SocketAddr>, Unreachable> {
        if allow_private {
            return resolve(url).await;
        }
        resolve_public(url).await
    }
}

/// The body of a delivery: the same in every attempt.
fn payload(work: &DeliveryWork) -> Payload {
    Payload::new(
        work.delivery.event_id,
        work.delivery.event,
        work.occurred_at,
        PayloadCase {
            reference: work.delivery.case,
            service: work.service.clone(),
            state: work.case_state.clone(),
        },
        &work.kind,
    )
}

/// Why an endpoint's host cannot be reached, or may not be.
enum Unreachable {
    Unresolved(String),
    NotPublic,
}

impl Unreachable {
    fn message(&self) -> String {
        match self {
            Self::Unresolved(host) => format!("The host {host} could not be found"),
            Self::NotPublic => UrlProblem::NotPublic.to_string(),
        }
    }
}

async fn resolve(url: &EndpointUrl) -> Result<Vec<SocketAddr>, Unreachable> {
    let host = url.host();
    let unresolved = || Unreachable::Unresolved(host.clone());
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), url.port()))
        .await
        .map_err(|_| unresolved())?
        .collect();
    if addresses.is_empty() {
        return Err(unresolved());
    }
    Ok(addresses)
}

/// Resolves the host and refuses it if any of its addresses is not public: one private answer
/// is enough for a request to land inside the council's network.
async fn resolve_public(url: &EndpointUrl) -> Result<Vec<SocketAddr>, Unreachable> {
    let addresses = resolve(url).await?;
    if addresses.iter().all(|address| is_public(address.ip())) {
        Ok(addresses)
    } else {
        Err(Unreachable::NotPublic)
    }
}

fn not_found(error: StoreError, id: i64) -> AppError {
    match error {
        StoreError::NotFound => AppError::WebhookNotFound(id),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_to_this_machine_is_not_public() {
        // Allowed past the address rules, as a name the rules cannot judge would be.
        let url = EndpointUrl::parse("http://localhost:8080/hook", true).unwrap();
        let addresses = resolve(&url).await.ok().expect("localhost resolves");
        assert!(addresses.iter().all(|a| a.port() == 8080));
        assert!(matches!(
            resolve_public(&url).await,
            Err(Unreachable::NotPublic)
        ));
        let nowhere = EndpointUrl::parse("https://nowhere.invalid/", false).unwrap();
        assert!(matches!(
            resolve(&nowhere).await,
            Err(Unreachable::Unresolved(host)) if host == "nowhere.invalid"
        ));
    }
}
