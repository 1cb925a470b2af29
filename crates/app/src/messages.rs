//! Use cases on messages with residents: preview a service's template for a case, send a
//! message (into the outbox: the message, its event and the job that sends it, in one
//! transaction), read a case's conversation, and take in delivery receipts.

use casework_domain::case::{EventKind, Reference};
use casework_domain::message::{self, Message, MessageDraft, MessageId, MessageStatus};
use casework_store::{NewJob, StatusChange};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{App, AppError, Caller};

/// The job that sends one message.
pub(crate) const SEND_MESSAGE: &str = "send_message";

/// A service's template filled in for a case, for staff to check and change before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplatePreview {
    pub code: String,
    pub subject: Option<String>,
    pub body: String,
    /// Placeholders the case could not fill, left in the text as `((name))`.
    pub missing: Vec<String>,
}

impl App {
    /// The service's template `code` filled in from the case.
    pub async fn preview_template(
        &self,
        caller: &Caller,
        reference: Reference,
        code: &str,
    ) -> Result<TemplatePreview, AppError> {
        let case = self.case(caller, reference).await?;
        let service = self.service(&case.service)?;
        let template = service
            .templates
            .iter()
            .find(|t| t.code == code)
            .ok_or_else(|| AppError::UnknownTemplate(code.to_owned()))?;
        let values = message::case_values(&case, service);
        let (body, mut missing) = message::fill(&template.body, &values);
        let subject = template.subject.as_deref().map(|subject| {
            let (subject, more) = message::fill(subject, &values);
            for name in more {
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
            subject
        });
        Ok(TemplatePreview {
            code: template.code.clone(),
            subject,
            body: body.trim().to_owned(),
            missing,
        })
    }

    /// Writes a message to the resident into the outbox; a worker sends it after commit.
    pub async fn send_message(
        &self,
        caller: &Caller,
        reference: Reference,
        draft: MessageDraft,
    ) -> Result<Message, AppError> {
        let case = self.case(caller, reference).await?;
        let now = self.now();
        let id = MessageId::new(Uuid::now_v7());
        let (message, event) = message::compose(&case, id, draft, &caller.actor, now)?;
        let job = NewJob {
            kind: SEND_MESSAGE.into(),
            payload: serde_json::json!({ "message": message.id }),
            run_at: now,
            key: Some(format!("{SEND_MESSAGE}:{}", message.id)),
        };
        self.store.insert_message(&message, &event, &[job]).await?;
        Ok(message)
    }

    /// The case's conversation, oldest first.
    pub async fn messages(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<Vec<Message>, AppError> {
        self.case(caller, reference).await?;
        Ok(self.store.messages(reference).await?)
    }

    /// Takes in a provider's delivery receipt. A receipt for a message we do not know, or one
    /// that would undo a later outcome (receipts arrive out of order), changes nothing.
    /// Returns whether it changed the message.
    pub async fn record_delivery(
        &self,
        provider_id: &str,
        status: MessageStatus,
        reason: Option<String>,
        at: OffsetDateTime,
    ) -> Result<bool, AppError> {
        let Some(message) = self.store.message_by_provider_id(provider_id).await? else {
            tracing::warn!("a delivery receipt for a message we do not know");
            return Ok(false);
        };
        if !message.status.may_become(status) {
            return Ok(false);
        }
        let failed = matches!(
            status,
            MessageStatus::PermanentFailure | MessageStatus::TemporaryFailure
        );
        let reason = reason.unwrap_or_else(|| failure_reason(status).to_owned());
        let event = failed.then(|| EventKind::MessageFailed {
            message: message.id,
            channel: message.channel,
            status,
            reason: reason.clone(),
        });
        let change = StatusChange {
            status,
            provider_id: None,
            error: failed.then_some(reason),
            at,
        };
        Ok(self
            .store
            .change_message_status(message.id, message.status, &change, event.as_ref())
            .await?)
    }
}

/// Why a message failed, in words for staff, when the provider gave none.
fn failure_reason(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::PermanentFailure => {
            "The address or number does not exist or refused the message. Check the resident's \
             contact details."
        }
        MessageStatus::TemporaryFailure => {
            "The resident's phone or inbox could not take the message (it may be off, or full). \
             Try again later."
        }
        _ => "",
    }
}
