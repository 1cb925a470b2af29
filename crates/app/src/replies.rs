//! Use cases on what residents send: texts and emails from the providers' callbacks, replies
//! on the plan page, the replies waiting for staff to file them, STOP by text, and which
//! replies each member of staff has read.
//!
//! Every reply is stored before the caller is answered: on the case the rules choose, or, when
//! they choose none, among the replies waiting for staff.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casework_channels::email::InboundEmail;
use casework_channels::notify::ReceivedText;
use casework_channels::sms;
use casework_domain::case::{Actor, Reference};
use casework_domain::inbound::{
    self, Attachment, IncomingFile, NoMatch, PlanReply, Reply, UnmatchedReply, choose_case,
};
use casework_domain::message::{Direction, Message, MessageChannel, MessageId};
use casework_domain::service::answers::FieldError;
use rand::RngCore;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{App, AppError, Caller, sha256_hex};

/// Where a reply went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// On this case.
    Case(Reference),
    /// Among the replies waiting for staff to file them.
    Waiting,
    /// Nowhere new: the provider repeated a callback already taken in.
    Repeated,
}

/// The address residents' email replies go to, with a token per message that names the case:
/// `replies@council.example` gives `replies+TOKEN@council.example`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAddress {
    local: String,
    domain: String,
}

impl ReplyAddress {
    pub fn parse(address: &str) -> Option<Self> {
        let (local, domain) = address.trim().rsplit_once('@')?;
        let valid = |part: &str| !part.is_empty() && !part.contains(['+', ' ', '<', '>']);
        (valid(local) && valid(domain) && domain.contains('.')).then(|| Self {
            local: local.to_owned(),
            domain: domain.to_owned(),
        })
    }

    fn with_token(&self, token: &str) -> String {
        format!("{}+{token}@{}", self.local, self.domain)
    }

    /// The token in `address`, if it is this address with one.
    fn token_in<'a>(&self, address: &'a str) -> Option<&'a str> {
        let (local, domain) = address.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let (base, token) = local.split_once('+')?;
        (base.eq_ignore_ascii_case(&self.local) && !token.is_empty()).then_some(token)
    }
}

impl std::fmt::Display for ReplyAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl App {
    /// Takes in a text a resident sent to the council's number (GOV.UK Notify's received-text
    /// callback). STOP opts the number out of texts, START back in; the text is filed either
    /// way, so staff see it.
    pub async fn receive_text(&self, text: ReceivedText) -> Result<Filed, AppError> {
        let phone = inbound::international_phone(&text.source_number);
        if let Some(phone) = &phone {
            if sms::is_stop(&text.message) {
                self.store
                    .set_sms_opt_out(phone, Some(text.date_received))
                    .await?;
            } else if sms::is_start(&text.message) {
                self.store.set_sms_opt_out(phone, None).await?;
            }
        }
        let reply = Reply {
            id: MessageId::new(Uuid::now_v7()),
            channel: MessageChannel::Sms,
            from: phone.clone().unwrap_or(text.source_number),
            to: Some(text.destination_number),
            subject: None,
            body: text.message,
            original: None,
            provider_id: Some(text.id),
            received_at: text.date_received,
        };
        let target = match &phone {
            Some(phone) => {
                let candidates = self
                    .store
                    .reply_candidates(MessageChannel::Sms, &inbound::stored_forms(phone))
                    .await?;
                choose_case(&candidates)
            }
            None => Err(NoMatch::Unknown),
        };
        self.file(reply, target, Vec::new()).await
    }

    /// Takes in an email a resident sent (a raw MIME message from the mail gateway). Its case
    /// is the one named by the reply address it was sent to, else by the message it answers
    /// (`In-Reply-To`, `References`), else by the resident's address. Quoted history and
    /// signature are trimmed from what staff read; the whole text is kept beside it.
    pub async fn receive_email(&self, raw: &[u8]) -> Result<Filed, AppError> {
        let email = InboundEmail::parse(raw)
            .map_err(|e| AppError::Invalid(vec![FieldError::new("message", e.to_string())]))?;
        let from = email.from.address.trim().to_lowercase();
        let target = match self.threaded_case(&email).await? {
            Some(case) => Ok(case),
            None => {
                let candidates = self
                    .store
                    .reply_candidates(MessageChannel::Email, std::slice::from_ref(&from))
                    .await?;
                choose_case(&candidates)
            }
        };
        let (attachments, refused) = inbound::screen_attachments(
            email
                .attachments
                .iter()
                .map(|a| IncomingFile {
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    content: a.bytes.clone(),
                })
                .collect(),
        );
        let mut body = email.reply_text();
        for line in refused {
            body.push_str("\n\n");
            body.push_str(&line);
        }
        let reply = Reply {
            id: MessageId::new(Uuid::now_v7()),
            channel: MessageChannel::Email,
            from,
            to: email.to.first().map(|to| to.address.clone()),
            subject: email.subject.clone(),
            body,
            original: Some(email.text.clone()),
            provider_id: email.message_id.clone(),
            received_at: self.now(),
        };
        self.file(reply, target, attachments).await
    }

    /// The case an email names: by the token in the reply address it went to, or by the
    /// message of ours it answers.
    async fn threaded_case(&self, email: &InboundEmail) -> Result<Option<Reference>, AppError> {
        if let Some(address) = &self.reply_address {
            for to in email.to.iter().chain(&email.cc) {
                let Some(token) = address.token_in(&to.address) else {
                    continue;
                };
                let hash = sha256_hex(token.as_bytes());
                if let Some(message) = self.store.message_by_reply_token(&hash).await? {
                    return Ok(Some(message.case));
                }
            }
        }
        // Our Message-IDs are the message's id at our domain.
        for id in email
            .in_reply_to
            .iter()
            .chain(email.references.iter().rev())
        {
            let Some(id) = id.split('@').next().and_then(|id| id.parse().ok()) else {
                continue;
            };
            if let Some(message) = self.store.message(id).await?
                && message.direction == Direction::Outbound
            {
                return Ok(Some(message.case));
            }
        }
        Ok(None)
    }

    async fn file(
        &self,
        reply: Reply,
        target: Result<Reference, NoMatch>,
        attachments: Vec<(Attachment, Vec<u8>)>,
    ) -> Result<Filed, AppError> {
        let channel = reply.channel;
        let filed = match target {
            Ok(case) => {
                let (message, event) = reply.file_on(case);
                let stored = self
                    .store
                    .insert_reply(&message, &event, &attachments)
                    .await?;
                if stored {
                    Filed::Case(case)
                } else {
                    Filed::Repeated
                }
            }
            Err(why) => {
                let unmatched = UnmatchedReply {
                    reply,
                    reason: why.to_string(),
                };
                let stored = self
                    .store
                    .insert_unmatched(&unmatched, &attachments)
                    .await?;
                if stored {
                    Filed::Waiting
                } else {
                    Filed::Repeated
                }
            }
        };
        if filed != Filed::Repeated {
            crate::messages::count_message(channel, "received");
        }
        Ok(filed)
    }

    /// A resident writes to the council on their plan page.
    pub async fn reply_on_plan(&self, token: &str, text: &str) -> Result<Message, AppError> {
        let link = self.working_link(token).await?;
        let reply = PlanReply::new(MessageId::new(Uuid::now_v7()), text, self.now())?;
        let (message, event) = reply.file_on(link.case);
        self.store.insert_reply(&message, &event, &[]).await?;
        crate::messages::count_message(MessageChannel::Plan, "received");
        Ok(message)
    }

    /// Replies no case could be chosen for, oldest first, for staff to file.
    pub async fn unmatched_replies(
        &self,
        caller: &Caller,
    ) -> Result<Vec<UnmatchedReply>, AppError> {
        const SHOWN: u32 = 200;
        self.staff_only(caller)?;
        Ok(self.store.unmatched_replies(SHOWN).await?)
    }

    pub async fn count_unmatched_replies(&self, caller: &Caller) -> Result<i64, AppError> {
        self.staff_only(caller)?;
        Ok(self.store.count_unmatched().await?)
    }

    pub async fn unmatched_reply(
        &self,
        caller: &Caller,
        id: MessageId,
    ) -> Result<Option<UnmatchedReply>, AppError> {
        self.staff_only(caller)?;
        Ok(self.store.unmatched_reply(id).await?)
    }

    /// Files a waiting reply on a case the caller may work. Returns `false` if someone filed
    /// it first.
    pub async fn file_reply(
        &self,
        caller: &Caller,
        id: MessageId,
        reference: Reference,
    ) -> Result<bool, AppError> {
        let case = self.case(caller, reference).await?;
        let Some(unmatched) = self.store.unmatched_reply(id).await? else {
            return Ok(false);
        };
        let (message, event) = unmatched.reply.file_on(case.reference);
        Ok(self
            .store
            .file_unmatched(&message, &event, &caller.actor, self.now())
            .await?)
    }

    /// When the resident's number texted STOP, if it has and has not texted START since.
    pub async fn sms_opted_out(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<Option<OffsetDateTime>, AppError> {
        let case = self.case(caller, reference).await?;
        self.opted_out(case.contact.phone.as_deref()).await
    }

    pub(crate) async fn opted_out(
        &self,
        phone: Option<&str>,
    ) -> Result<Option<OffsetDateTime>, AppError> {
        let Some(phone) = phone.and_then(inbound::international_phone) else {
            return Ok(None);
        };
        Ok(self
            .store
            .sms_opt_out(&inbound::stored_forms(&phone))
            .await?)
    }

    /// Records that the caller has read the case's replies up to `up_to` (the newest they
    /// were shown, so that one arriving meanwhile stays unread).
    pub async fn mark_replies_read(
        &self,
        caller: &Caller,
        reference: Reference,
        up_to: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.case(caller, reference).await?;
        let Some(reader) = reader(caller) else {
            return Ok(());
        };
        Ok(self
            .store
            .mark_replies_read(reader, reference, up_to)
            .await?)
    }

    /// Those of `cases` with replies the caller has not read.
    pub async fn unread_cases(
        &self,
        caller: &Caller,
        cases: &[Reference],
    ) -> Result<Vec<Reference>, AppError> {
        let Some(reader) = reader(caller) else {
            return Ok(Vec::new());
        };
        Ok(self.store.unread_cases(reader, cases).await?)
    }

    /// The attachments of the case's messages `messages` that have any, read at once.
    pub async fn attachments_of(
        &self,
        caller: &Caller,
        reference: Reference,
        messages: &[MessageId],
    ) -> Result<Vec<(MessageId, Attachment)>, AppError> {
        self.case(caller, reference).await?;
        Ok(self.store.attachments_of(messages).await?)
    }

    /// The attachments of the replies `ids` waiting to be filed, read at once.
    pub async fn attachments_waiting(
        &self,
        caller: &Caller,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Attachment)>, AppError> {
        self.staff_only(caller)?;
        Ok(self.store.attachments_of(ids).await?)
    }

    /// One attachment with its content, if it belongs to a message on a case the caller may
    /// see (or to a reply waiting to be filed, which any member of staff may see).
    pub async fn attachment(
        &self,
        caller: &Caller,
        message: MessageId,
        position: i32,
    ) -> Result<Option<(Attachment, Vec<u8>)>, AppError> {
        match self.store.message(message).await? {
            Some(stored) => {
                self.case(caller, stored.case).await?;
            }
            None => {
                self.staff_only(caller)?;
                if self.store.unmatched_reply(message).await?.is_none() {
                    return Ok(None);
                }
            }
        }
        Ok(self.store.attachment(message, position).await?)
    }

    /// Makes the reply address for an outbound email, keeping only its token's hash.
    pub(crate) async fn reply_address_for(
        &self,
        message: MessageId,
    ) -> Result<Option<String>, AppError> {
        let Some(address) = &self.reply_address else {
            return Ok(None);
        };
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes).to_lowercase();
        self.store
            .set_reply_token(message, &sha256_hex(token.as_bytes()))
            .await?;
        Ok(Some(address.with_token(&token)))
    }

    fn staff_only(&self, caller: &Caller) -> Result<(), AppError> {
        match caller.actor {
            Actor::Staff(_) | Actor::System => Ok(()),
            _ => Err(AppError::StaffOnly),
        }
    }
}

/// Whose reading is recorded: a member of staff's, by their email.
fn reader(caller: &Caller) -> Option<&str> {
    match &caller.actor {
        Actor::Staff(email) => Some(email),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::ReplyAddress;

    #[test]
    fn reply_addresses_carry_a_token() {
        let address = ReplyAddress::parse("replies@council.example").unwrap();
        let with = address.with_token("abc123");
        assert_eq!(with, "replies+abc123@council.example");
        assert_eq!(address.token_in(&with), Some("abc123"));
        assert_eq!(
            address.token_in("Replies+abc123@COUNCIL.example"),
            Some("abc123")
        );
        assert_eq!(address.token_in("replies@council.example"), None);
        assert_eq!(address.token_in("other+abc123@council.example"), None);
        assert_eq!(address.token_in("replies+abc123@elsewhere.example"), None);
        assert_eq!(ReplyAddress::parse("no-at-sign"), None);
        assert_eq!(ReplyAddress::parse("a+b@council.example"), None);
    }
}
