//! Replies waiting for staff: texts and emails from residents that no case could be chosen
//! for, each filed on a case by a member of staff, and the files that came with replies.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use casework_app::domain::message::MessageId;
use casework_app::{App, AppError, StaffMember};
use serde::Deserialize;

use super::messages::AttachmentLink;
use super::{Chrome, ErrorItem, PageError, format};
use crate::auth::SignedIn;

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/staff/replies", get(show))
        .route("/staff/replies/{id}", post(file))
        .route("/staff/attachments/{id}/{position}", get(attachment))
}

pub(crate) struct WaitingReply {
    id: String,
    from: String,
    channel: &'static str,
    subject: Option<String>,
    body: String,
    reason: String,
    received: String,
    attachments: Vec<AttachmentLink>,
    /// The reference typed, kept when it was refused.
    reference: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "replies.html")]
pub(crate) struct RepliesPage {
    page: Chrome,
    replies: Vec<WaitingReply>,
    summary: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FileForm {
    #[serde(default)]
    reference: String,
}

async fn page(
    app: &App,
    member: &StaffMember,
    refused: Option<(MessageId, String, String)>,
) -> Result<RepliesPage, PageError> {
    let caller = member.caller();
    let waiting = app.unmatched_replies(&caller).await?;
    let ids: Vec<MessageId> = waiting.iter().map(|w| w.reply.id).collect();
    let files = app.attachments_waiting(&caller, &ids).await?;
    let mut replies = Vec::with_capacity(waiting.len());
    for unmatched in waiting {
        let reply = unmatched.reply;
        let attachments = files
            .iter()
            .filter(|(id, _)| *id == reply.id)
            .map(|(id, a)| AttachmentLink::new(*id, a))
            .collect();
        let (reference, error) = match &refused {
            Some((id, typed, error)) if *id == reply.id => (typed.clone(), Some(error.clone())),
            _ => (String::new(), None),
        };
        replies.push(WaitingReply {
            id: reply.id.to_string(),
            from: reply.from,
            channel: super::messages::by(reply.channel),
            subject: reply.subject,
            body: reply.body,
            reason: unmatched.reason,
            received: format::date_time(reply.received_at),
            attachments,
            reference,
            error,
        });
    }
    let summary: Vec<ErrorItem> = replies
        .iter()
        .filter_map(|r| {
            r.error.as_ref().map(|text| ErrorItem {
                text: text.clone(),
                href: Some(format!("#reference-{}", r.id)),
            })
        })
        .collect();
    let mut chrome = Chrome::new("Replies to file", Some(member));
    chrome.has_errors = !summary.is_empty();
    Ok(RepliesPage {
        page: chrome,
        replies,
        summary,
    })
}

pub(crate) async fn show(
    State(app): State<App>,
    SignedIn(member): SignedIn,
) -> Result<RepliesPage, PageError> {
    page(&app, &member, None).await
}

pub(crate) async fn file(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(form): Form<FileForm>,
) -> Result<Response, PageError> {
    let id: MessageId = raw
        .parse()
        .map_err(|_| PageError::NotFound("There is no such reply.".into()))?;
    let typed = form.reference.trim().to_owned();
    let refuse = |error: &str| Some((id, typed.clone(), error.to_owned()));
    let refused = match typed.to_uppercase().parse() {
        Err(_) if typed.is_empty() => refuse("Enter the case reference, like CW-000123"),
        Err(_) => refuse("Enter a case reference in the right form, like CW-000123"),
        Ok(reference) => match app.file_reply(&member.caller(), id, reference).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/staff/cases/{reference}/messages?done=filed#conversation"
                ))
                .into_response());
            }
            Err(AppError::CaseNotFound(_)) => {
                refuse(&format!("There is no case {reference} in your teams"))
            }
            Err(other) => return Err(other.into()),
        },
    };
    let page = page(&app, &member, refused).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// A file that came with a reply. Sent as a download, never shown in the page's origin: a
/// resident's file must not run as part of Casework.
pub(crate) async fn attachment(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path((raw, position)): Path<(String, i32)>,
) -> Result<Response, PageError> {
    let missing = || PageError::NotFound("There is no such file.".into());
    let id: MessageId = raw.parse().map_err(|_| missing())?;
    let (attachment, content) = app
        .attachment(&member.caller(), id, position)
        .await?
        .ok_or_else(missing)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        attachment
            .filename
            .chars()
            .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            })
            .collect::<String>()
    );
    let content_type = HeaderValue::from_str(&attachment.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(response)
}
