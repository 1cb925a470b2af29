//! Webhook endpoints through the API, for an admin key: the same as the admin pages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use casework_app::store::{WebhookDelivery, WebhookEndpoint};
use casework_app::{App, NewWebhookRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiCaller;
use super::extract::ApiJson;
use crate::error::{ApiError, ErrorBody};

/// An endpoint another system listens on. Its secret is only in the answer that made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// A service's code, or `null` for every service.
    pub service: Option<String>,
    /// `case.created`, `case.transitioned`, `case.closed`, `message.received`,
    /// `plan_action.completed`.
    pub events: Vec<String>,
    pub allow_private: bool,
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<WebhookEndpoint> for WebhookBody {
    fn from(endpoint: WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            service: endpoint.service,
            events: endpoint
                .events
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
            allow_private: endpoint.allow_private,
            enabled: endpoint.enabled,
            created_at: rfc3339(endpoint.created_at),
        }
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookBody>,
}

/// An endpoint just made, with the secret its deliveries are signed with: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewWebhookAnswer {
    pub webhook: WebhookBody,
    pub secret: String,
}

/// An endpoint to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// `https://` on a public host, unless `allow_private`.
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// A service's code; left out, every service.
    #[serde(default)]
    pub service: Option<String>,
    /// At least one event name.
    pub events: Vec<String>,
    /// Allows `http` and hosts on this machine or a private network, for local and test systems.
    #[serde(default)]
    pub allow_private: bool,
}

/// One event's delivery to the endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: i64,
    pub event_id: i64,
    #[serde(rename = "type")]
    pub event: String,
    pub case: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub last_attempt_at: Option<String>,
}

impl From<WebhookDelivery> for DeliveryBody {
    fn from(delivery: WebhookDelivery) -> Self {
        Self {
            id: delivery.id,
            event_id: delivery.event_id,
            event: delivery.event.as_str().to_owned(),
            case: delivery.case.to_string(),
            status: delivery.status.as_str().to_owned(),
            attempts: delivery.attempts,
            last_status: delivery.last_status,
            last_error: delivery.last_error,
            last_attempt_at: delivery.last_attempt_at.map(rfc3339),
        }
    }
}

/// An endpoint with its latest deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDetail {
    pub webhook: WebhookBody,
    pub deliveries: Vec<DeliveryBody>,
}

/// An id from the path: one that is not a number names nothing.
fn number(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("There is no such webhook endpoint or delivery"))
}

/// Every webhook endpoint. Admin keys only.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ))]
pub(super) async fn list_webhooks(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = app.webhooks(&caller).await?;
    Ok(Json(WebhookList {
        webhooks: webhooks.into_iter().map(WebhookBody::from).collect(),
    }))
}

/// Registers an endpoint. The answer holds its signing secret, which is not shown again.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks",
    request_body = NewWebhookBody,
    responses(
        (status = 201, body = NewWebhookAnswer),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "A field is wrong; `fields` names it", body = ErrorBody),
    ))]
pub(super) async fn add_webhook(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    ApiJson { value, .. }: ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, Json<NewWebhookAnswer>), ApiError> {
    let request = NewWebhookRequest {
        url: value.url,
        description: value.description,
        service: value.service,
        events: value.events,
        allow_private: value.allow_private,
    };
    let added = app.add_webhook(&caller, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewWebhookAnswer {
            webhook: added.endpoint.into(),
            secret: added.secret,
        }),
    ))
}

/// An endpoint and its latest deliveries.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, body = WebhookDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn show_webhook(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Json<WebhookDetail>, ApiError> {
    let (endpoint, deliveries) = app.webhook(&caller, number(&id)?).await?;
    Ok(Json(WebhookDetail {
        webhook: endpoint.into(),
        deliveries: deliveries.into_iter().map(DeliveryBody::from).collect(),
    }))
}

/// Removes an endpoint: nothing more is sent to it, and its deliveries are deleted.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn remove_webhook(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.remove_webhook(&caller, number(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a new attempt at one of the endpoint's deliveries.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery}/resend", tag = "webhooks",
    params(
        ("id" = i64, Path, description = "The endpoint's id"),
        ("delivery" = i64, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Queued"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn resend_delivery(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.resend_webhook(&caller, number(&id)?, number(&delivery)?)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
