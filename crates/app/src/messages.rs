//! Use cases on messages with residents: preview a service's template for a case, send a
//! message (into the outbox: the message, its event and the job that sends it, in one
//! transaction), read a case's conversation, and take in delivery receipts.

use std::collections::BTreeMap;
use std::sync::Arc;

use casework_channels::dev::DevSender;
use casework_channels::{OutChannel, Outgoing, SendError, Sender};
use casework_domain::case::{EventKind, Reference};
use casework_domain::message::{
    self, Message, MessageChannel, MessageDraft, MessageError, MessageId, MessageStatus,
};
use casework_domain::service::answers::FieldError;
use casework_store::{NewJob, StatusChange};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{App, AppError, Caller, JobOutcome};

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
        if message.channel == MessageChannel::Sms
            && self.opted_out(message.to.as_deref()).await?.is_some()
        {
            return Err(MessageError::Invalid(vec![FieldError::new(
                "channel",
                "The resident texted STOP, so no texts can be sent to them: choose another way \
                 to send",
            )])
            .into());
        }
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

    /// What the dev sender took instead of sending, newest first, on the cases the caller
    /// may see: the outbox of a demo or a development set-up.
    pub async fn dev_outbox(&self, caller: &Caller) -> Result<Vec<Message>, AppError> {
        const SHOWN: u32 = 100;
        let mut shown = Vec::new();
        // Each case is looked up once, however many messages it has here.
        let mut visible: BTreeMap<Reference, bool> = BTreeMap::new();
        for message in self.store.messages_sent_by(DevSender.name(), SHOWN).await? {
            let may_see = match visible.get(&message.case) {
                Some(known) => *known,
                None => {
                    let may_see = match self.case(caller, message.case).await {
                        Ok(_) => true,
                        Err(AppError::CaseNotFound(_)) => false,
                        Err(other) => return Err(other),
                    };
                    visible.insert(message.case, may_see);
                    may_see
                }
            };
            if may_see {
                shown.push(message);
            }
        }
        Ok(shown)
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
            sender: None,
            error: failed.then_some(reason),
            at,
        };
        let changed = self
            .store
            .change_message_status(message.id, message.status, &change, event.as_ref())
            .await?;
        if changed {
            let outcome = match status {
                MessageStatus::Delivered => "delivered",
                _ if failed => "failed",
                _ => "sent",
            };
            count_message(message.channel, outcome);
        }
        Ok(changed)
    }
}

/// Counts a message's step for `/metrics`: `sent`, `delivered`, `failed` or `received`, by
/// channel.
pub(crate) fn count_message(channel: MessageChannel, outcome: &'static str) {
    metrics::counter!(
        "casework_messages_total",
        "channel" => channel.as_str(),
        "outcome" => outcome
    )
    .increment(1);
}

impl App {
    /// Sends one queued message: the `send_message` job. A message already sent (by another
    /// worker, or before a crash that lost the job's outcome) is not sent again; one the
    /// provider refuses for good is marked failed for staff to see, and a temporary failure
    /// is retried by the worker.
    ///
    /// `tried_before` says that an earlier attempt may have reached the provider without our
    /// recording its answer (the worker died, or the answer timed out): the provider is asked
    /// first, where it can be, and a message it already has is recorded, not sent again.
    pub(crate) async fn deliver(
        &self,
        id: MessageId,
        tried_before: bool,
    ) -> Result<JobOutcome, AppError> {
        let Some(message) = self.store.message(id).await? else {
            return Ok(JobOutcome::Failed(format!("no message {id}")));
        };
        if message.status != MessageStatus::Queued {
            return Ok(JobOutcome::Done);
        }
        let now = self.now();
        let outgoing = match (message.channel, &message.to) {
            // A message for the plan page is there as soon as it is stored.
            (MessageChannel::Plan, _) => None,
            (MessageChannel::Email, Some(to)) => Some((OutChannel::Email, to)),
            (MessageChannel::Sms, Some(to)) => Some((OutChannel::Sms, to)),
            (_, None) => {
                return self
                    .fail_message(&message, "The message has no address to go to.", now)
                    .await;
            }
        };
        let Some((channel, to)) = outgoing else {
            let sent = StatusChange {
                status: MessageStatus::Sent,
                provider_id: None,
                sender: None,
                error: None,
                at: now,
            };
            self.store
                .change_message_status(message.id, MessageStatus::Queued, &sent, None)
                .await?;
            return Ok(JobOutcome::Done);
        };
        let Some(sender) = self.senders.for_channel(channel) else {
            let reason = match channel {
                OutChannel::Email => "No way of sending email is set up.",
                OutChannel::Sms => "No way of sending text messages is set up.",
            };
            return self.fail_message(&message, reason, now).await;
        };
        // The resident may have texted STOP after the message was written.
        if channel == OutChannel::Sms && self.opted_out(Some(to)).await?.is_some() {
            let reason = "The resident texted STOP, so texts to their number are not sent \
                          until they text START.";
            return self.fail_message(&message, reason, now).await;
        }
        let reply_to = match channel {
            OutChannel::Email => self.reply_address_for(message.id).await?,
            OutChannel::Sms => None,
        };
        let outgoing = Outgoing {
            reference: message.id.to_string(),
            channel,
            to: to.clone(),
            subject: message.subject.clone(),
            body: message.body.clone(),
            reply_to,
        };
        let found = if tried_before {
            sender.find_sent(&outgoing).await
        } else {
            Ok(None)
        };
        let sent = match found {
            Ok(Some(sent)) => {
                tracing::info!(message = %message.id, sender = sender.name(),
                    "the provider already had the message: recorded, not sent again");
                Ok(sent)
            }
            Ok(None) => sender.send(&outgoing).await,
            Err(error) => Err(error),
        };
        match sent {
            Ok(sent) => {
                let change = StatusChange {
                    status: MessageStatus::Sent,
                    provider_id: sent.provider_id,
                    sender: Some(sender.name().to_owned()),
                    error: None,
                    at: self.now(),
                };
                if self
                    .store
                    .change_message_status(message.id, MessageStatus::Queued, &change, None)
                    .await?
                {
                    count_message(message.channel, "sent");
                }
                Ok(JobOutcome::Done)
            }
            Err(SendError::Temporary(reason)) => Ok(JobOutcome::Retry(reason)),
            Err(SendError::Permanent(reason)) => {
                self.fail_message(&message, &reason, self.now()).await
            }
        }
    }

    async fn fail_message(
        &self,
        message: &Message,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<JobOutcome, AppError> {
        let change = StatusChange {
            status: MessageStatus::PermanentFailure,
            provider_id: None,
            sender: None,
            error: Some(reason.to_owned()),
            at,
        };
        let event = EventKind::MessageFailed {
            message: message.id,
            channel: message.channel,
            status: MessageStatus::PermanentFailure,
            reason: reason.to_owned(),
        };
        if self
            .store
            .change_message_status(message.id, MessageStatus::Queued, &change, Some(&event))
            .await?
        {
            count_message(message.channel, "failed");
        }
        Ok(JobOutcome::Done)
    }
}

/// The senders messages go out by, one per channel; a channel without one cannot send.
#[derive(Clone, Default)]
pub struct Senders {
    pub email: Option<Arc<dyn Sender>>,
    pub sms: Option<Arc<dyn Sender>>,
}

impl Senders {
    /// The dev sender on both channels: sends nothing, and the dev outbox shows what it took.
    pub fn dev() -> Self {
        let dev: Arc<dyn Sender> = Arc::new(DevSender);
        Self {
            email: Some(dev.clone()),
            sms: Some(dev),
        }
    }

    fn for_channel(&self, channel: OutChannel) -> Option<&Arc<dyn Sender>> {
        match channel {
            OutChannel::Email => self.email.as_ref(),
            OutChannel::Sms => self.sms.as_ref(),
        }
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
