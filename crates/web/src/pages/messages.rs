//! Messages with the resident on the staff pages: a case's conversation with the form to
//! write to the resident (from one of the service's templates or from scratch), how messages
//! read on the case's timeline, and the dev outbox that `serve --demo` sends into.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use casework_app::domain::case::{Channel, EventKind, Reference};
use casework_app::domain::inbound::Attachment;
use casework_app::domain::message::{
    Direction, Message, MessageChannel, MessageDraft, MessageError, MessageId, MessageStatus,
};
use casework_app::domain::service::answers::FieldError;
use casework_app::{App, AppError, Directory, StaffMember};
use casework_channels::sms;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Chrome, ErrorItem, PageError, format, reference};
use crate::auth::SignedIn;

pub(super) fn by(channel: MessageChannel) -> &'static str {
    match channel {
        MessageChannel::Email => "by email",
        MessageChannel::Sms => "by text message",
        MessageChannel::Plan => "on the plan page",
    }
}

/// A message event's title and description on the MOJ timeline; other events are described
/// in `case` and `plan_editor`.
pub(super) fn timeline_entry(kind: &EventKind) -> Option<(String, Option<String>)> {
    Some(match kind {
        EventKind::MessageSent {
            channel, template, ..
        } => (
            format!("Message sent {}", by(*channel)),
            template
                .as_ref()
                .map(|t| format!("From the template “{t}”.")),
        ),
        EventKind::MessageFailed {
            channel, reason, ..
        } => (
            format!("Message {} not delivered", by(*channel)),
            Some(reason.clone()),
        ),
        EventKind::MessageReceived { channel, .. } => {
            (format!("Reply received {}", by(*channel)), None)
        }
        _ => return None,
    })
}

/// The routes: each case's conversation, and the dev outbox when asked for.
pub(crate) fn router(dev_outbox: bool) -> Router<App> {
    let router = Router::new().route("/staff/cases/{reference}/messages", get(show).post(send));
    if dev_outbox {
        router.route("/dev/outbox", get(outbox))
    } else {
        router
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowParams {
    /// A template to start the message from.
    template: Option<String>,
    done: Option<String>,
}

/// The message form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct MessageForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    template: String,
}

impl MessageForm {
    fn draft(&self) -> MessageDraft {
        MessageDraft {
            channel: self.channel.parse().ok(),
            subject: Some(self.subject.clone()).filter(|s| !s.trim().is_empty()),
            body: self.body.clone(),
            template: Some(self.template.clone()).filter(|t| !t.is_empty()),
        }
    }
}

pub(crate) struct MessageView {
    id: String,
    /// `sent` or `received`, as the MOJ messages pattern names the sides.
    side: &'static str,
    sender: String,
    channel: &'static str,
    subject: Option<String>,
    body: String,
    at: String,
    datetime: String,
    status: format::Tag,
    error: Option<String>,
    /// An email reply's whole text, when staff read a trimmed view of it.
    original: Option<String>,
    attachments: Vec<AttachmentLink>,
}

pub(crate) struct AttachmentLink {
    pub(super) href: String,
    pub(super) filename: String,
    pub(super) size: String,
}

impl AttachmentLink {
    pub(crate) fn new(message: MessageId, attachment: &Attachment) -> Self {
        Self {
            href: format!("/staff/attachments/{message}/{}", attachment.position),
            filename: attachment.filename.clone(),
            size: format::file_size(attachment.size),
        }
    }
}

fn view(directory: &Directory, message: Message, attachments: &[Attachment]) -> MessageView {
    let status = match message.status {
        MessageStatus::Queued => ("Sending", "govuk-tag--grey"),
        MessageStatus::Sent => ("Sent", "govuk-tag--blue"),
        MessageStatus::Delivered => ("Delivered", "govuk-tag--green"),
        MessageStatus::PermanentFailure | MessageStatus::TemporaryFailure => {
            ("Not delivered", "govuk-tag--red")
        }
        MessageStatus::Received => ("Received", "govuk-tag--purple"),
    };
    MessageView {
        id: message.id.to_string(),
        side: match message.direction {
            Direction::Outbound => "sent",
            Direction::Inbound => "received",
        },
        sender: format::actor(directory, &message.author),
        channel: by(message.channel),
        subject: message.subject,
        body: message.body,
        at: format::date_time(message.created_at),
        datetime: format::machine_time(message.created_at),
        status: format::Tag {
            text: status.0.to_owned(),
            class: status.1,
        },
        error: message.error,
        original: message.original,
        attachments: attachments
            .iter()
            .map(|a| AttachmentLink::new(message.id, a))
            .collect(),
    }
}

pub(crate) struct TemplateOption {
    code: String,
    name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "messages.html")]
pub(crate) struct MessagesPage {
    page: Chrome,
    reference: String,
    messages: Vec<MessageView>,
    templates: Vec<TemplateOption>,
    form: MessageForm,
    /// Placeholders the chosen template could not fill, still in the text.
    missing: Vec<String>,
    has_email: bool,
    has_phone: bool,
    /// When the resident texted STOP, in words, if they have.
    opted_out: Option<String>,
    /// When the newest reply shown came in: reading the page reads up to it.
    latest_reply: Option<OffsetDateTime>,
    banner: Option<String>,
    /// The error summary.
    summary: Vec<ErrorItem>,
    field_errors: Vec<FieldError>,
}

impl MessagesPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn sms_length(&self) -> String {
        let fragments = sms::fragments(&self.form.body);
        let chars = self.form.body.chars().count();
        match fragments {
            0 | 1 => format!("{chars} characters: 1 text message"),
            n => format!("{chars} characters: {n} text messages"),
        }
    }
}

async fn page(
    app: &App,
    member: &StaffMember,
    reference: Reference,
    form: MessageForm,
    missing: Vec<String>,
    field_errors: Vec<FieldError>,
) -> Result<MessagesPage, PageError> {
    let caller = member.caller();
    let (case, messages, directory, opted_out) = tokio::try_join!(
        app.case(&caller, reference),
        app.messages(&caller, reference),
        app.directory(),
        app.sms_opted_out(&caller, reference),
    )?;
    let latest_reply = messages
        .iter()
        .filter(|m| m.direction == Direction::Inbound)
        .map(|m| m.created_at)
        .max();
    // Only emails bring files.
    let emails: Vec<MessageId> = messages
        .iter()
        .filter(|m| m.direction == Direction::Inbound && m.channel == MessageChannel::Email)
        .map(|m| m.id)
        .collect();
    let files = app.attachments_of(&caller, reference, &emails).await?;
    let views = messages
        .into_iter()
        .map(|message| {
            let attachments: Vec<Attachment> = files
                .iter()
                .filter(|(id, _)| *id == message.id)
                .map(|(_, a)| a.clone())
                .collect();
            view(&directory, message, &attachments)
        })
        .collect();
    let templates = app
        .services()
        .get(&case.service)
        .map(|s| {
            s.templates
                .iter()
                .map(|t| TemplateOption {
                    code: t.code.clone(),
                    name: t.name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let errors: Vec<ErrorItem> = field_errors
        .iter()
        .map(|e| ErrorItem {
            text: e.message.clone(),
            href: Some(format!("#message-{}", e.field)),
        })
        .collect();
    let mut page = Chrome::new(format!("Messages – {reference}"), Some(member));
    page.has_errors = !errors.is_empty();
    let form = MessageForm {
        channel: if form.channel.is_empty() {
            match case.contact.preferred_channel {
                Channel::Sms => "sms".to_owned(),
                Channel::Email | Channel::Post => "email".to_owned(),
            }
        } else {
            form.channel
        },
        ..form
    };
    Ok(MessagesPage {
        page,
        reference: reference.to_string(),
        messages: views,
        templates,
        form,
        missing,
        has_email: case.contact.email.is_some(),
        has_phone: case.contact.phone.is_some() && opted_out.is_none(),
        opted_out: opted_out.map(format::date_time),
        latest_reply,
        banner: None,
        summary: errors,
        field_errors,
    })
}

pub(crate) async fn show(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Query(params): Query<ShowParams>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    let (form, missing) = match params.template.as_deref().filter(|t| !t.is_empty()) {
        Some(code) => {
            let preview = app
                .preview_template(&member.caller(), reference, code)
                .await?;
            let form = MessageForm {
                channel: String::new(),
                subject: preview.subject.unwrap_or_default(),
                body: preview.body,
                template: preview.code,
            };
            (form, preview.missing)
        }
        None => (MessageForm::default(), Vec::new()),
    };
    let mut page = page(&app, &member, reference, form, missing, Vec::new()).await?;
    if let Some(latest) = page.latest_reply {
        app.mark_replies_read(&member.caller(), reference, latest)
            .await?;
    }
    page.banner = match params.done.as_deref() {
        Some("sent") => Some("Message sent".to_owned()),
        Some("filed") => Some("Reply filed on this case".to_owned()),
        _ => None,
    };
    Ok(page.into_response())
}

pub(crate) async fn send(
    State(app): State<App>,
    SignedIn(member): SignedIn,
    Path(raw): Path<String>,
    Form(form): Form<MessageForm>,
) -> Result<Response, PageError> {
    let reference = reference(&raw)?;
    match app
        .send_message(&member.caller(), reference, form.draft())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/staff/cases/{reference}/messages?done=sent#conversation"
        ))
        .into_response()),
        Err(AppError::Message(MessageError::Invalid(fields))) => {
            let page = page(&app, &member, reference, form, Vec::new(), fields).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub(crate) struct OutboxRow {
    reference: String,
    to: String,
    channel: &'static str,
    subject: Option<String>,
    body: String,
    at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dev_outbox.html")]
pub(crate) struct OutboxPage {
    page: Chrome,
    rows: Vec<OutboxRow>,
}

/// What the dev sender took instead of sending: the demo's outbox.
pub(crate) async fn outbox(
    State(app): State<App>,
    SignedIn(member): SignedIn,
) -> Result<Response, PageError> {
    let messages = app.dev_outbox(&member.caller()).await?;
    let rows = messages
        .into_iter()
        .map(|m| OutboxRow {
            reference: m.case.to_string(),
            to: m.to.unwrap_or_default(),
            channel: by(m.channel),
            subject: m.subject,
            body: m.body,
            at: format::date_time(m.status_at),
        })
        .collect();
    Ok(OutboxPage {
        page: Chrome::new("Dev outbox", Some(&member)),
        rows,
    }
    .into_response())
}
