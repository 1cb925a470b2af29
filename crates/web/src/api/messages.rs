//! A case's conversation with the resident: read it, and send a message into the outbox.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use casework_app::App;

use super::ApiCaller;
use super::extract::{ApiJson, reference};
use super::model::{MessageBody, MessageList, NewMessageBody};
use crate::error::{ApiError, ErrorBody};

/// The case's messages, oldest first, with each one's delivery status.
#[utoipa::path(get, path = "/cases/{reference}/messages", tag = "messages",
    params(("reference" = String, Path, description = "The case's reference, such as CW-000123")),
    responses(
        (status = 200, body = MessageList),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn list_messages(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
) -> Result<Json<MessageList>, ApiError> {
    let messages = app.messages(&caller, reference(&raw)?).await?;
    Ok(Json(MessageList {
        messages: messages.into_iter().map(MessageBody::from).collect(),
    }))
}

/// Sends a message to the resident: it is queued now and sent shortly after commit, so a
/// crash in between neither loses nor repeats it. Its `status` follows its delivery.
#[utoipa::path(post, path = "/cases/{reference}/messages", tag = "messages",
    request_body = NewMessageBody,
    params(("reference" = String, Path, description = "The case's reference")),
    responses(
        (status = 202, description = "Queued to send", body = MessageBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "No address for the channel, or the text is empty or too long", body = ErrorBody),
    ))]
pub(super) async fn send_message(
    ApiCaller(caller): ApiCaller,
    State(app): State<App>,
    Path(raw): Path<String>,
    ApiJson { value, .. }: ApiJson<NewMessageBody>,
) -> Result<(StatusCode, Json<MessageBody>), ApiError> {
    let message = app
        .send_message(&caller, reference(&raw)?, value.into())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(message.into())))
}
