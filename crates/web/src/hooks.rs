//! Inbound webhooks under `/hooks`: GOV.UK Notify's received-text and delivery-receipt
//! callbacks, and inbound email as a mail gateway posts it (the raw MIME message).
//!
//! Each hook authenticates its caller with a bearer token from configuration (a hook without
//! one is not served), refuses what it cannot read with a 4xx and a log line, and stores what
//! it accepts before answering 2xx, so that a provider retries anything not taken in.

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use casework_app::domain::message::MessageStatus;
use casework_app::{App, AppError, Filed, sha256_hex};
use casework_channels::ParseError;
use casework_channels::notify::{DeliveryReceipt, DeliveryStatus, ReceivedText};
use serde_json::json;

use crate::error::ApiError;

/// The largest inbound email taken in: ten attachments at their limit, base64-encoded.
const EMAIL_LIMIT: usize = 40 * 1024 * 1024;

/// The bearer tokens the hooks' callers send; a hook without one is not served.
#[derive(Debug, Clone, Default)]
pub struct HookTokens {
    /// Set in GOV.UK Notify as the callbacks' bearer token.
    pub notify: Option<String>,
    /// Sent by the mail gateway that posts inbound email.
    pub inbound_email: Option<String>,
}

#[derive(Clone)]
struct Token(String);

pub(crate) fn router(tokens: &HookTokens) -> Router<App> {
    let mut router = Router::new();
    if let Some(token) = &tokens.notify {
        let token = Token(sha256_hex(token.as_bytes()));
        router = router
            .route(
                "/hooks/notify/received-text",
                post({
                    let token = token.clone();
                    move |state, headers, body| received_text(state, headers, body, token)
                }),
            )
            .route(
                "/hooks/notify/delivery-status",
                post(move |state, headers, body| delivery_status(state, headers, body, token)),
            );
    }
    if let Some(token) = &tokens.inbound_email {
        let token = Token(sha256_hex(token.as_bytes()));
        router = router.route(
            "/hooks/email/inbound",
            post(move |state, headers, body| inbound_email(state, headers, body, token))
                .layer(DefaultBodyLimit::max(EMAIL_LIMIT)),
        );
    }
    router
}

/// The answer to a caller without the hook's bearer token, if this one is. Digests are compared,
/// not the tokens, so the comparison's time says nothing about the token.
fn refuse_caller(headers: &HeaderMap, token: &Token, hook: &str) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| sha256_hex(v.trim().as_bytes()));
    if given.as_deref() == Some(token.0.as_str()) {
        return None;
    }
    tracing::warn!(hook, "refused a hook call without the right bearer token");
    Some((
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": { "code": "unauthorized", "message": "Send the hook's bearer token as `Authorization: Bearer TOKEN`" } })),
    )
        .into_response())
}

/// A body the hook cannot read: 400, and the reason in the log (parsers' messages name what
/// was wrong, never the content).
fn malformed(hook: &str, error: &ParseError) -> Response {
    tracing::warn!(hook, %error, "refused a malformed hook call");
    ApiError::malformed(None, error.to_string()).into_response()
}

fn accepted(filed: Filed) -> Response {
    let (status, filed) = match filed {
        Filed::Case(_) => (StatusCode::CREATED, "case"),
        Filed::Waiting => (StatusCode::CREATED, "waiting"),
        Filed::Repeated => (StatusCode::OK, "repeated"),
    };
    (status, Json(json!({ "filed": filed }))).into_response()
}

async fn received_text(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
    token: Token,
) -> Response {
    const HOOK: &str = "notify received text";
    if let Some(refused) = refuse_caller(&headers, &token, HOOK) {
        return refused;
    }
    let text = match ReceivedText::parse(&body) {
        Ok(text) => text,
        Err(error) => return malformed(HOOK, &error),
    };
    match app.receive_text(text).await {
        Ok(filed) => accepted(filed),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn delivery_status(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
    token: Token,
) -> Response {
    const HOOK: &str = "notify delivery status";
    if let Some(refused) = refuse_caller(&headers, &token, HOOK) {
        return refused;
    }
    let receipt = match DeliveryReceipt::parse(&body) {
        Ok(receipt) => receipt,
        Err(error) => return malformed(HOOK, &error),
    };
    let status = match &receipt.status {
        DeliveryStatus::Delivered => MessageStatus::Delivered,
        DeliveryStatus::PermanentFailure => MessageStatus::PermanentFailure,
        // Notify gave up either way: for staff, the message did not arrive and may be sent
        // again.
        DeliveryStatus::TemporaryFailure | DeliveryStatus::TechnicalFailure => {
            MessageStatus::TemporaryFailure
        }
        DeliveryStatus::Created | DeliveryStatus::Sending => {
            return (StatusCode::OK, Json(json!({ "changed": false }))).into_response();
        }
        DeliveryStatus::Other(status) => {
            tracing::warn!(
                hook = HOOK,
                status,
                "a delivery status this version does not know"
            );
            return (StatusCode::OK, Json(json!({ "changed": false }))).into_response();
        }
    };
    let at = receipt.completed_at.unwrap_or_else(|| app.now());
    match app.record_delivery(&receipt.id, status, None, at).await {
        Ok(changed) => (StatusCode::OK, Json(json!({ "changed": changed }))).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn inbound_email(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
    token: Token,
) -> Response {
    const HOOK: &str = "inbound email";
    if let Some(refused) = refuse_caller(&headers, &token, HOOK) {
        return refused;
    }
    match app.receive_email(&body).await {
        Ok(filed) => accepted(filed),
        // The parser's reason names what was wrong with the message, never its content.
        Err(AppError::Invalid(fields)) => {
            let reason = fields.first().map_or("", |f| f.message.as_str());
            tracing::warn!(hook = HOOK, reason, "refused a malformed hook call");
            ApiError::malformed(Some("message".into()), reason).into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}
