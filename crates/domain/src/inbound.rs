//! Messages from residents: which case a reply belongs to, and what is kept of it. A reply is
//! filed on a case when the rules below pick exactly one; otherwise it waits for staff to file
//! it, so that nothing a resident sends is dropped or put on the wrong case.

use serde::Serialize;
use time::OffsetDateTime;

use crate::case::{Actor, EventKind, Reference};
use crate::message::{Direction, Message, MessageChannel, MessageId, MessageStatus};
use crate::service::answers::normalise_phone;

/// Longest reply kept as the text staff read; the original is kept whole beside it.
pub const MAX_REPLY_CHARS: usize = 20_000;

/// The longest message a resident may write on their plan page.
pub const MAX_PLAN_REPLY_CHARS: usize = 5_000;

/// A UK number in international form (`+447700900123`), from any way of writing it: the
/// resident's contact details (`07700 900123`), or GOV.UK Notify's (`447700900123`).
pub fn international_phone(number: &str) -> Option<String> {
    let trimmed = number.trim();
    let entered = if trimmed.starts_with("44") {
        format!("+{trimmed}")
    } else {
        trimmed.to_owned()
    };
    let national = normalise_phone(&entered)?;
    Some(match national.strip_prefix('0') {
        Some(rest) => format!("+44{rest}"),
        None => national,
    })
}

/// Both ways a number in international form may be stored in a resident's contact details.
pub fn stored_forms(international: &str) -> Vec<String> {
    let mut forms = vec![international.to_owned()];
    if let Some(rest) = international.strip_prefix("+44") {
        forms.push(format!("0{rest}"));
    }
    forms
}

/// A case whose resident has the address or number a reply came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub case: Reference,
    pub open: bool,
    /// When the council last wrote to the resident on this case by the reply's channel.
    pub last_written_at: Option<OffsetDateTime>,
}

/// Why a reply could not be filed on a case by itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoMatch {
    #[error("No case has this resident's contact details.")]
    Unknown,
    #[error("This resident's cases are all closed.")]
    AllClosed,
    #[error("This resident has {0} open cases and none of them has written to them this way.")]
    Several(usize),
}

/// The case a reply belongs to: of the resident's open cases, the one the council last wrote
/// to them on by that channel (they are most likely answering it); failing that, their only
/// open case. Anything else needs a person to decide.
pub fn choose_case(candidates: &[Candidate]) -> Result<Reference, NoMatch> {
    let open: Vec<&Candidate> = candidates.iter().filter(|c| c.open).collect();
    if let Some(latest) = open
        .iter()
        .filter_map(|c| c.last_written_at.map(|at| (at, c.case)))
        .max()
    {
        return Ok(latest.1);
    }
    match open.as_slice() {
        [only] => Ok(only.case),
        [] if candidates.is_empty() => Err(NoMatch::Unknown),
        [] => Err(NoMatch::AllClosed),
        several => Err(NoMatch::Several(several.len())),
    }
}

/// A reply as it came in, before a case is chosen for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub id: MessageId,
    pub channel: MessageChannel,
    /// The resident's address or number.
    pub from: String,
    /// Ours: the address or number they wrote to.
    pub to: Option<String>,
    pub subject: Option<String>,
    /// What staff read: the reply without quoted history or signature.
    pub body: String,
    /// The whole message, when it differs from `body`.
    pub original: Option<String>,
    /// The provider's id, which makes a repeated callback recognisable.
    pub provider_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

impl Reply {
    /// The reply filed on `case`, with the event that puts it on the timeline.
    pub fn file_on(&self, case: Reference) -> (Message, EventKind) {
        let body: String = self.body.trim().chars().take(MAX_REPLY_CHARS).collect();
        let original = self
            .original
            .clone()
            .filter(|original| original.trim() != body);
        let message = Message {
            to: self.to.clone(),
            from: Some(self.from.clone()),
            subject: self.subject.clone(),
            original,
            provider_id: self.provider_id.clone(),
            ..received(self.id, case, self.channel, body, self.received_at)
        };
        let event = received_event(&message);
        (message, event)
    }
}

/// Why a message written on the plan page is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlanReplyProblem {
    #[error("Enter your message")]
    Empty,
    #[error("Your message must be {MAX_PLAN_REPLY_CHARS} characters or fewer")]
    TooLong,
}

/// What a resident writes on their plan page. Their link has already chosen the case, and they
/// write from no address or number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanReply {
    id: MessageId,
    body: String,
    received_at: OffsetDateTime,
}

impl PlanReply {
    pub fn new(
        id: MessageId,
        text: &str,
        received_at: OffsetDateTime,
    ) -> Result<Self, PlanReplyProblem> {
        let body = text.trim();
        if body.is_empty() {
            return Err(PlanReplyProblem::Empty);
        }
        if body.chars().count() > MAX_PLAN_REPLY_CHARS {
            return Err(PlanReplyProblem::TooLong);
        }
        Ok(Self {
            id,
            body: body.to_owned(),
            received_at,
        })
    }

    /// The message filed on `case`, with the event that puts it on the timeline.
    pub fn file_on(&self, case: Reference) -> (Message, EventKind) {
        let message = received(
            self.id,
            case,
            MessageChannel::Plan,
            self.body.clone(),
            self.received_at,
        );
        let event = received_event(&message);
        (message, event)
    }
}

/// A message from a resident, as every channel files it.
fn received(
    id: MessageId,
    case: Reference,
    channel: MessageChannel,
    body: String,
    at: OffsetDateTime,
) -> Message {
    Message {
        id,
        case,
        direction: Direction::Inbound,
        channel,
        to: None,
        from: None,
        subject: None,
        body,
        original: None,
        template: None,
        author: Actor::Resident,
        status: MessageStatus::Received,
        provider_id: None,
        sender: None,
        error: None,
        created_at: at,
        status_at: at,
    }
}

fn received_event(message: &Message) -> EventKind {
    EventKind::MessageReceived {
        message: message.id,
        channel: message.channel,
    }
}

/// A file that came with a reply, as kept (its content is stored beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Its place among the message's attachments, from 1.
    pub position: i32,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// The largest attachment kept.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most attachments kept from one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Documents and photos residents send as evidence; other types (programs, archives) are
/// not kept, so that staff never open them from Casework.
const ACCEPTED_TYPES: [&str; 10] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/webp",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
];

/// A file as it came, before it is screened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingFile {
    pub filename: Option<String>,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Keeps the files within the limits and says, in a line each, which were not kept and why,
/// for the message's text: a resident's file is never dropped without staff knowing.
pub fn screen_attachments(files: Vec<IncomingFile>) -> (Vec<(Attachment, Vec<u8>)>, Vec<String>) {
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for (index, file) in files.into_iter().enumerate() {
        let filename = file
            .filename
            .map(|name| name.chars().filter(|c| !c.is_control()).take(200).collect())
            .filter(|name: &String| !name.trim().is_empty())
            .unwrap_or_else(|| format!("attachment {}", index + 1));
        let content_type = file.content_type.to_ascii_lowercase();
        let why = if !ACCEPTED_TYPES.contains(&content_type.as_str()) {
            Some("this type of file is not accepted")
        } else if file.content.len() > MAX_ATTACHMENT_BYTES {
            Some("it is larger than 10 MB")
        } else if kept.len() == MAX_ATTACHMENTS {
            Some("only 10 files are kept from one message")
        } else {
            None
        };
        match why {
            Some(why) => refused.push(format!("Not kept: {filename} ({why}).")),
            None => kept.push((
                Attachment {
                    position: i32::try_from(kept.len() + 1).unwrap_or(i32::MAX),
                    filename,
                    content_type,
                    size: i64::try_from(file.content.len()).unwrap_or(i64::MAX),
                },
                file.content,
            )),
        }
    }
    (kept, refused)
}

/// A reply waiting for staff to file it on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedReply {
    pub reply: Reply,
    /// Why it was not filed by itself, in words for staff.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn candidate(number: i64, open: bool, written: Option<OffsetDateTime>) -> Candidate {
        Candidate {
            case: Reference::new(number),
            open,
            last_written_at: written,
        }
    }

    #[test]
    fn numbers_in_every_form_become_one() {
        for form in [
            "07700 900123",
            "+447700900123",
            "447700900123",
            "+44 (0)7700 900123",
        ] {
            assert_eq!(
                international_phone(form).as_deref(),
                Some("+447700900123"),
                "{form}"
            );
        }
        assert_eq!(international_phone("not a number"), None);
        assert_eq!(
            stored_forms("+447700900123"),
            ["+447700900123", "07700900123"]
        );
    }

    proptest::proptest! {
        /// Whatever a provider sends as a number, reading it never panics, and a number read
        /// once reads the same again.
        #[test]
        fn reading_a_number_is_settled_once_read(number in "\\PC{0,20}") {
            if let Some(international) = international_phone(&number) {
                proptest::prop_assert_eq!(international_phone(&international), Some(international.clone()));
                for form in stored_forms(&international) {
                    proptest::prop_assert_eq!(international_phone(&form), Some(international.clone()));
                }
            }
        }
    }

    #[test]
    fn the_case_last_written_from_wins() {
        let cases = [
            candidate(1, true, Some(datetime!(2026-12-01 9:00 UTC))),
            candidate(2, true, Some(datetime!(2026-12-03 9:00 UTC))),
            candidate(3, true, None),
            candidate(4, false, Some(datetime!(2026-12-04 9:00 UTC))),
        ];
        assert_eq!(choose_case(&cases), Ok(Reference::new(2)));
    }

    #[test]
    fn an_only_open_case_takes_the_reply() {
        let cases = [candidate(1, false, None), candidate(2, true, None)];
        assert_eq!(choose_case(&cases), Ok(Reference::new(2)));
    }

    #[test]
    fn anything_else_waits_for_staff() {
        assert_eq!(choose_case(&[]), Err(NoMatch::Unknown));
        assert_eq!(
            choose_case(&[candidate(1, false, None)]),
            Err(NoMatch::AllClosed)
        );
        assert_eq!(
            choose_case(&[candidate(1, true, None), candidate(2, true, None)]),
            Err(NoMatch::Several(2))
        );
    }

    #[test]
    fn files_outside_the_limits_are_named_not_kept() {
        let file = |name: &str, kind: &str, size: usize| IncomingFile {
            filename: Some(name.into()),
            content_type: kind.into(),
            content: vec![0; size],
        };
        let (kept, refused) = screen_attachments(vec![
            file("photo.jpg", "image/JPEG", 1000),
            file("run-me.exe", "application/x-msdownload", 10),
            file("huge.pdf", "application/pdf", MAX_ATTACHMENT_BYTES + 1),
            IncomingFile {
                filename: None,
                content_type: "application/pdf".into(),
                content: vec![1],
            },
        ]);
        let names: Vec<(i32, &str, &str)> = kept
            .iter()
            .map(|(a, _)| (a.position, a.filename.as_str(), a.content_type.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (1, "photo.jpg", "image/jpeg"),
                (2, "attachment 4", "application/pdf")
            ]
        );
        assert_eq!(kept[0].0.size, 1000);
        assert_eq!(
            refused,
            [
                "Not kept: run-me.exe (this type of file is not accepted).",
                "Not kept: huge.pdf (it is larger than 10 MB)."
            ]
        );
    }

    #[test]
    fn a_filed_reply_keeps_its_original_only_when_it_differs() {
        let reply = Reply {
            id: MessageId::new(uuid::Uuid::nil()),
            channel: MessageChannel::Email,
            from: "resident@example.org".into(),
            to: None,
            subject: Some("Re: your request".into()),
            body: "Thanks\n".into(),
            original: Some("Thanks\n\n> On Monday you wrote".into()),
            provider_id: None,
            received_at: datetime!(2026-12-04 9:00 UTC),
        };
        let (message, event) = reply.file_on(Reference::new(7));
        assert_eq!(message.body, "Thanks");
        assert_eq!(message.status, MessageStatus::Received);
        assert_eq!(message.author, Actor::Resident);
        assert!(message.original.is_some());
        assert_eq!(
            event,
            EventKind::MessageReceived {
                message: reply.id,
                channel: MessageChannel::Email
            }
        );
        let plain = Reply {
            original: Some("Thanks".into()),
            ..reply
        };
        assert_eq!(plain.file_on(Reference::new(7)).0.original, None);
    }

    #[test]
    fn a_plan_reply_is_trimmed_and_within_its_limit() {
        let id = MessageId::new(uuid::Uuid::nil());
        let at = datetime!(2026-12-04 9:00 UTC);
        assert_eq!(PlanReply::new(id, " \n ", at), Err(PlanReplyProblem::Empty));
        let long = "a".repeat(MAX_PLAN_REPLY_CHARS + 1);
        assert_eq!(
            PlanReply::new(id, &long, at),
            Err(PlanReplyProblem::TooLong)
        );
        let longest = "é".repeat(MAX_PLAN_REPLY_CHARS);
        assert!(
            PlanReply::new(id, &longest, at).is_ok(),
            "counted in characters"
        );

        let (message, event) = PlanReply::new(id, "  Tuesday is fine\n", at)
            .unwrap()
            .file_on(Reference::new(7));
        assert_eq!(message.body, "Tuesday is fine");
        assert_eq!(
            (message.channel, message.direction, message.from),
            (MessageChannel::Plan, Direction::Inbound, None)
        );
        assert_eq!((message.case, message.created_at), (Reference::new(7), at));
        assert_eq!(
            event,
            EventKind::MessageReceived {
                message: id,
                channel: MessageChannel::Plan
            }
        );
    }
}
