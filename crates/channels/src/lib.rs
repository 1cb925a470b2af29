//! Casework's message channels: the adapters that send one email or SMS (GOV.UK Notify, an SMTP
//! relay, and a dev sender that sends nothing), and the parsers for what comes back from them
//! (Notify's delivery receipts and received texts, raw inbound email, SMS opt-outs); and the
//! poster of outbound webhook deliveries ([`webhook`]).
//!
//! It must not depend on the store, the app, the web or the worker crates: the outbox that
//! decides what to send, when to retry and what to record is built on top of this crate, and
//! the inbound hooks hand it bytes and get plain data back. Parsers are pure functions over
//! bytes so that any HTTP framework can call them and malformed input can never panic them.
//!
//! # Choosing a sender
//!
//! Every sender implements [`Sender`]. A [`SendError::Temporary`] means "try again later" (the
//! provider is down, busy or unreachable); a [`SendError::Permanent`] means retrying the same
//! message will never help (a bad address, a wrong key, a message the provider refuses).
//! Senders never retry themselves: retrying with backoff is the outbox's job.
//!
//! - [`notify::NotifySender`] sends email and SMS through GOV.UK Notify. Notify sends only
//!   through templates, so the service needs two templates set up in Notify:
//!   - an **SMS template** whose message is `((body))`;
//!   - an **email template** whose subject is `((subject))` and whose message is `((body))`.
//!
//!   Their ids go in [`notify::NotifyConfig`], and every message is sent with
//!   `personalisation: {subject, body}` (only `body` for SMS). Notify takes a reply-to
//!   address only as the id of one registered in its settings, so an email's
//!   [`Outgoing::reply_to`] is not used there: set [`notify::NotifyConfig::email_reply_to_id`].
//! - [`smtp::SmtpSender`] sends email through a council's own SMTP relay with lettre.
//! - [`dev::DevSender`] sends nothing, so the product runs with no external account.

use async_trait::async_trait;

pub mod dev;
pub mod email;
pub mod limit;
pub mod notify;
pub mod sms;
pub mod smtp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;

/// What to send: one message to one address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outgoing {
    /// Our id for the message, e.g. `msg-42`. Sent as Notify's `reference` and used in the
    /// SMTP `Message-ID`, so it must be unique per message and the same on every retry: that
    /// is what lets a provider (or the resident's mail client) see a retry as the same
    /// message.
    pub reference: String,
    pub channel: OutChannel,
    /// An email address or a phone number, as the channel needs.
    pub to: String,
    /// The email's subject. Notify's email template needs one; SMS ignores it.
    pub subject: Option<String>,
    /// Plain text. Email senders derive their HTML part from it.
    pub body: String,
    /// Where replies should go (a per-case reply address), overriding a sender's default.
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutChannel {
    Email,
    Sms,
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id for the message, which its delivery receipts name.
    pub provider_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Retry later: the provider is down, busy (5xx, 429), slow or unreachable.
    #[error("temporary failure, worth retrying: {0}")]
    Temporary(String),
    /// Retrying will not help: a bad number or address, wrong credentials, a refused message.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_temporary(&self) -> bool {
        matches!(self, SendError::Temporary(_))
    }
}

/// Sends one message through one provider.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    async fn send(&self, message: &Outgoing) -> Result<Sent, SendError>;
    /// The message the provider already accepted under `message.reference`, if any. The outbox
    /// asks before a retry whose earlier attempt may have reached the provider (a crash or a
    /// timeout between the provider's answer and our record of it), and records what was found
    /// instead of sending again. A sender whose provider cannot be asked (SMTP) answers
    /// `Ok(None)`, so such a retry sends again: at least once, not exactly once.
    async fn find_sent(&self, message: &Outgoing) -> Result<Option<Sent>, SendError> {
        let _ = message;
        Ok(None)
    }
    /// A short, stable name for logs and the messages table (`notify`, `smtp`, `dev`).
    fn name(&self) -> &'static str;
}

/// Input that a parser could not make sense of. The message says what was wrong, for the log;
/// a hook answers it with a 4xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("malformed email: {0}")]
    Email(String),
}

/// A sender that cannot be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid GOV.UK Notify API key: {0}")]
    NotifyKey(String),
    #[error("invalid sender configuration: {0}")]
    Invalid(String),
}
