//! Messages between the council and a resident about a case: what may be sent, to which
//! address, and how a service's message templates fill their `((placeholders))`. Like the rest
//! of the domain, nothing here sends or saves: the app writes a message and the job that sends
//! it in one transaction (the outbox), and a worker sends it after commit.
//!
//! Identifiers come from the caller (the app makes UUIDs), so that the event recording a
//! message, and the provider's copy of it, can name it before the store has seen it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::calendar::uk_date;
use crate::case::{Actor, Case, Channel, EventKind};
use crate::service::Service;
use crate::service::answers::FieldError;

/// GOV.UK Notify refuses longer text messages (six fragments of 153 characters).
pub const MAX_SMS_CHARS: usize = 918;
const MAX_EMAIL_CHARS: usize = 20_000;
const MAX_SUBJECT_CHARS: usize = 200;

/// Identifies one message on any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(Uuid);

impl MessageId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for MessageId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(Self)
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the council to the resident.
    Outbound,
    /// From the resident to the council.
    Inbound,
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    Email,
    Sms,
    /// Written on, or for, the resident's plan page.
    Plan,
}

/// Where a message has got to. Outbound: queued, then sent (the provider took it), then
/// delivered or a failure from its delivery receipt. Inbound messages are received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageStatus {
    Queued,
    Sent,
    Delivered,
    /// The address does not exist or refuses: sending again will not help.
    PermanentFailure,
    /// The resident's phone or inbox could not take it for now; the provider gave up.
    TemporaryFailure,
    Received,
}

macro_rules! string_enum {
    ($type:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl FromStr for $type {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(()),
                }
            }
        }
    };
}

string_enum!(Direction { Outbound => "outbound", Inbound => "inbound" });
string_enum!(MessageChannel { Email => "email", Sms => "sms", Plan => "plan" });
string_enum!(MessageStatus {
    Queued => "queued",
    Sent => "sent",
    Delivered => "delivered",
    PermanentFailure => "permanent-failure",
    TemporaryFailure => "temporary-failure",
    Received => "received",
});

impl MessageStatus {
    /// Whether a delivery receipt saying `next` may replace this status. Receipts can arrive
    /// out of order; a message delivered or failed stays so.
    pub fn may_become(self, next: MessageStatus) -> bool {
        match self {
            Self::Queued => next != Self::Queued && next != Self::Received,
            Self::Sent => matches!(
                next,
                Self::Delivered | Self::PermanentFailure | Self::TemporaryFailure
            ),
            Self::Delivered | Self::PermanentFailure | Self::TemporaryFailure | Self::Received => {
                false
            }
        }
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: MessageId,
    pub case: crate::case::Reference,
    pub direction: Direction,
    pub channel: MessageChannel,
    /// The resident's address or number for an outbound message, ours for an inbound one.
    pub to: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// An inbound message's whole text (quoted history and signature included), when `body`
    /// is a trimmed view of it.
    pub original: Option<String>,
    /// The service's template it was written from, if any.
    pub template: Option<String>,
    pub author: Actor,
    pub status: MessageStatus,
    /// The provider's id for it, once sent: how a delivery receipt finds it.
    pub provider_id: Option<String>,
    /// Which sender took it: `notify`, `smtp`, `dev`.
    pub sender: Option<String>,
    /// Why it failed, in words for staff.
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub status_at: OffsetDateTime,
}

/// What a member of staff (or another system) asks to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageDraft {
    /// `None` sends by the resident's preferred channel.
    pub channel: Option<MessageChannel>,
    pub subject: Option<String>,
    pub body: String,
    pub template: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    #[error("some fields are missing or wrong")]
    Invalid(Vec<FieldError>),
}

/// Decides a message to the resident on `case`: its channel (the one asked for, or the
/// resident's preferred one), the address from the resident's contact details, and checked
/// text. Returns the message, queued, and the event recording it.
pub fn compose(
    case: &Case,
    id: MessageId,
    draft: MessageDraft,
    author: &Actor,
    now: OffsetDateTime,
) -> Result<(Message, EventKind), MessageError> {
    let mut errors = Vec::new();
    let contact = &case.contact;
    let channel = draft.channel.unwrap_or(match contact.preferred_channel {
        Channel::Sms => MessageChannel::Sms,
        Channel::Email | Channel::Post => MessageChannel::Email,
    });
    let to = match channel {
        MessageChannel::Email => contact.email.clone().or_else(|| {
            errors.push(FieldError::new(
                "channel",
                "The resident has no email address: choose another way to send",
            ));
            None
        }),
        MessageChannel::Sms => contact.phone.clone().or_else(|| {
            errors.push(FieldError::new(
                "channel",
                "The resident has no phone number: choose another way to send",
            ));
            None
        }),
        MessageChannel::Plan => None,
    };
    let body = draft.body.trim().to_owned();
    let limit = match channel {
        MessageChannel::Sms => MAX_SMS_CHARS,
        MessageChannel::Email | MessageChannel::Plan => MAX_EMAIL_CHARS,
    };
    if body.is_empty() {
        errors.push(FieldError::new("body", "Enter the message"));
    } else if body.chars().count() > limit {
        errors.push(FieldError::new(
            "body",
            format!("The message must be {limit} characters or fewer"),
        ));
    }
    let subject = match channel {
        MessageChannel::Email => {
            let subject = draft
                .subject
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("Your request {}", case.reference));
            if subject.chars().count() > MAX_SUBJECT_CHARS {
                errors.push(FieldError::new(
                    "subject",
                    format!("The subject must be {MAX_SUBJECT_CHARS} characters or fewer"),
                ));
            }
            Some(subject)
        }
        MessageChannel::Sms | MessageChannel::Plan => None,
    };
    if !errors.is_empty() {
        return Err(MessageError::Invalid(errors));
    }
    let event = EventKind::MessageSent {
        message: id,
        channel,
        template: draft.template.clone(),
    };
    let message = Message {
        id,
        case: case.reference,
        direction: Direction::Outbound,
        channel,
        to,
        from: None,
        subject,
        body,
        original: None,
        template: draft.template,
        author: author.clone(),
        status: MessageStatus::Queued,
        provider_id: None,
        sender: None,
        error: None,
        created_at: now,
        status_at: now,
    };
    Ok((message, event))
}

/// The placeholders a case gives a template: its reference, the resident's name, the
/// service's name, the state's label, the SLA's due date, and each answer by its field's code
/// (choices by their labels).
pub fn case_values(case: &Case, service: &Service) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for field in &service.fields {
        let Some(answer) = case.answers.get(&field.code) else {
            continue;
        };
        let label = |code: &str| {
            field
                .choices
                .iter()
                .find(|c| c.code == code)
                .map_or_else(|| code.to_owned(), |c| c.label.clone())
        };
        let text = match answer {
            Value::String(text) => label(text),
            Value::Bool(true) => "Yes".to_owned(),
            Value::Bool(false) => "No".to_owned(),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(label)
                .collect::<Vec<_>>()
                .join(", "),
            Value::Null => continue,
            other => other.to_string(),
        };
        values.insert(field.code.clone(), text);
    }
    let due = uk_date(case.sla_due_at);
    values.extend([
        ("reference".to_owned(), case.reference.to_string()),
        ("name".to_owned(), case.contact.name.clone()),
        ("service".to_owned(), service.name.clone()),
        (
            "state".to_owned(),
            service
                .workflow
                .state(&case.state)
                .map_or_else(|| case.state.clone(), |s| s.label.clone()),
        ),
        (
            "due_date".to_owned(),
            format!("{} {} {}", due.day(), due.month(), due.year()),
        ),
    ]);
    values
}

/// Fills a template's `((placeholders))` from `values`. A placeholder without a value is left
/// as `((name))` and named in the second part of the answer, so that staff see what is
/// missing before they send.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(template.len());
    let mut missing = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("((") {
        let Some(len) = rest[start + 2..].find("))") else {
            break;
        };
        let name = rest[start + 2..start + 2 + len].trim();
        out.push_str(&rest[..start]);
        match values.get(name) {
            Some(value) => out.push_str(value),
            None => {
                out.push_str(&rest[start..start + 4 + len]);
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_owned());
                }
            }
        }
        rest = &rest[start + 4 + len..];
    }
    out.push_str(rest);
    (out, missing)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::case::{Contact, Language, Reference};

    const NOW: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn case(preferred: Channel, email: Option<&str>, phone: Option<&str>) -> Case {
        Case {
            reference: Reference::new(42),
            service: "missed-bin".into(),
            state: "reported".into(),
            priority: "standard".into(),
            priority_rank: 0,
            team: "waste".into(),
            assignee: None,
            contact: Contact {
                name: "Sam Resident".into(),
                email: email.map(Into::into),
                phone: phone.map(Into::into),
                preferred_channel: preferred,
                language: Language::En,
            },
            answers: Default::default(),
            description: None,
            location: None,
            external: None,
            sla_due_at: NOW,
            sla_breached_at: None,
            created_at: NOW,
            updated_at: NOW,
            closed_at: None,
            version: 1,
        }
    }

    fn id() -> MessageId {
        MessageId::new(Uuid::from_u128(7))
    }

    fn draft(body: &str) -> MessageDraft {
        MessageDraft {
            body: body.into(),
            ..MessageDraft::default()
        }
    }

    fn fields(error: MessageError) -> Vec<String> {
        let MessageError::Invalid(errors) = error;
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_preferred_channel_and_its_address_are_used() {
        let staff = Actor::Staff("amy@council.example".into());
        let by_sms = case(Channel::Sms, Some("sam@example.com"), Some("07700900123"));
        let (message, event) = compose(&by_sms, id(), draft(" Hello "), &staff, NOW).unwrap();
        assert_eq!(message.channel, MessageChannel::Sms);
        assert_eq!(message.to.as_deref(), Some("07700900123"));
        assert_eq!(message.body, "Hello");
        assert_eq!(message.subject, None);
        assert_eq!(message.status, MessageStatus::Queued);
        assert_eq!(
            event,
            EventKind::MessageSent {
                message: id(),
                channel: MessageChannel::Sms,
                template: None
            }
        );

        let by_email = case(Channel::Email, Some("sam@example.com"), None);
        let (message, _) = compose(&by_email, id(), draft("Hello"), &staff, NOW).unwrap();
        assert_eq!(message.to.as_deref(), Some("sam@example.com"));
        assert_eq!(message.subject.as_deref(), Some("Your request CW-000042"));

        // Post is not a channel we can send by: email instead, when there is an address.
        let by_post = case(Channel::Post, Some("sam@example.com"), None);
        let (message, _) = compose(&by_post, id(), draft("Hello"), &staff, NOW).unwrap();
        assert_eq!(message.channel, MessageChannel::Email);
    }

    #[test]
    fn missing_addresses_and_bad_text_are_refused() {
        let staff = Actor::Staff("amy@council.example".into());
        let no_phone = case(Channel::Sms, None, None);
        assert_eq!(
            fields(compose(&no_phone, id(), draft("Hi"), &staff, NOW).unwrap_err()),
            ["channel"]
        );
        let sms = case(Channel::Sms, None, Some("07700900123"));
        assert_eq!(
            fields(compose(&sms, id(), draft("  "), &staff, NOW).unwrap_err()),
            ["body"]
        );
        let long = "x".repeat(MAX_SMS_CHARS + 1);
        assert_eq!(
            fields(compose(&sms, id(), draft(&long), &staff, NOW).unwrap_err()),
            ["body"]
        );
        assert!(compose(&sms, id(), draft(&long[1..]), &staff, NOW).is_ok());
    }

    #[test]
    fn placeholders_are_filled_and_missing_ones_named() {
        let values = BTreeMap::from([
            ("name".to_owned(), "Sam".to_owned()),
            ("reference".to_owned(), "CW-000042".to_owned()),
        ]);
        let (text, missing) = fill(
            "Dear ((name)), about (( reference )): see ((plan_link)) and ((plan_link)).",
            &values,
        );
        assert_eq!(
            text,
            "Dear Sam, about CW-000042: see ((plan_link)) and ((plan_link))."
        );
        assert_eq!(missing, ["plan_link"]);
        assert_eq!(fill("no end ((name", &values).0, "no end ((name");
    }

    #[test]
    fn a_case_gives_its_answers_and_built_in_values() {
        let services = crate::service::ServiceCatalogue::from_files([(
            "missed-bin.toml",
            include_str!("../../../services/missed-bin.toml"),
        )])
        .unwrap();
        let service = services.get("missed-bin").unwrap();
        let mut case = case(Channel::Email, None, None);
        case.answers = serde_json::from_value(serde_json::json!({
            "bin_type": "recycling",
            "bin_out_by_7am": true,
        }))
        .unwrap();
        case.sla_due_at = datetime!(2026-12-08 17:00 UTC);
        let values = case_values(&case, service);
        assert_eq!(values["reference"], "CW-000042");
        assert_eq!(values["name"], "Sam Resident");
        assert_eq!(values["service"], "Report a missed bin collection");
        assert_eq!(values["state"], "Reported");
        assert_eq!(values["due_date"], "8 December 2026");
        assert_eq!(values["bin_type"], "Mixed recycling (blue bin)");
        assert_eq!(values["bin_out_by_7am"], "Yes");
        let template = &service.templates[0];
        let (body, missing) = fill(&template.body, &values);
        assert!(body.starts_with("Dear Sam Resident,"), "{body}");
        assert_eq!(missing, ["address", "plan_link", "council"]);
    }

    #[test]
    fn receipts_never_undo_an_outcome() {
        use MessageStatus::*;
        assert!(Queued.may_become(Sent));
        assert!(Queued.may_become(Delivered));
        assert!(Sent.may_become(PermanentFailure));
        assert!(!Delivered.may_become(TemporaryFailure));
        assert!(!PermanentFailure.may_become(Delivered));
        assert!(!Sent.may_become(Queued));
        for status in [
            Queued,
            Sent,
            Delivered,
            PermanentFailure,
            TemporaryFailure,
            Received,
        ] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
    }
}
