//! Email through a council's own SMTP relay, with lettre.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{ConfigError, OutChannel, Outgoing, SendError, Sender, Sent};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text throughout: only for a relay on the same host or a test.
    None,
    /// Plain connection upgraded with STARTTLS, which is then required (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// User name and password, when the relay asks for them.
    pub credentials: Option<(String, String)>,
    /// The `From` address, e.g. `Council <casework@council.gov.uk>`. Its domain is also the
    /// right-hand side of every `Message-ID`.
    pub from: String,
    /// `Reply-To` when a message names none of its own.
    pub reply_to: Option<String>,
    pub timeout: Duration,
}

/// Sends email as multipart/alternative: the plain text, and HTML made from it.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

impl SmtpSender {
    pub fn new(config: SmtpConfig) -> Result<Self, ConfigError> {
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            ConfigError::Invalid(format!("SMTP {what}: {e}"))
        };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| invalid("from address", &e))?;
        let reply_to = config
            .reply_to
            .as_deref()
            .map(str::parse::<Mailbox>)
            .transpose()
            .map_err(|e| invalid("reply-to address", &e))?;
        // builder_dangerous only means "no TLS unless set below"; every mode but None sets it.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout));
        let parameters = || TlsParameters::new(config.host.clone()).map_err(|e| invalid("TLS", &e));
        builder = match config.tls {
            TlsMode::None => builder.tls(Tls::None),
            TlsMode::StartTls => builder.tls(Tls::Required(parameters()?)),
            TlsMode::Tls => builder.tls(Tls::Wrapper(parameters()?)),
        };
        if let Some((user, password)) = config.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            reply_to,
        })
    }

    fn message(&self, message: &Outgoing) -> Result<Message, SendError> {
        let permanent =
            |what: &str, e: &dyn std::fmt::Display| SendError::Permanent(format!("{what}: {e}"));
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| permanent("cannot send to this address", &e))?;
        let reply_to = match &message.reply_to {
            Some(address) => Some(
                address
                    .parse::<Mailbox>()
                    .map_err(|e| permanent("invalid reply-to address", &e))?,
            ),
            None => self.reply_to.clone(),
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(message_id(
                &message.reference,
                self.from.email.domain(),
            )));
        if let Some(reply_to) = reply_to {
            builder = builder.reply_to(reply_to);
        }
        if let Some(subject) = &message.subject {
            builder = builder.subject(subject);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                message.body.clone(),
                text_to_html(&message.body),
            ))
            .map_err(|e| permanent("cannot build the email", &e))
    }
}

#[async_trait]
impl Sender for SmtpSender {
    async fn send(&self, message: &Outgoing) -> Result<Sent, SendError> {
        if message.channel != OutChannel::Email {
            return Err(SendError::Permanent("SMTP sends email only".into()));
        }
        let email = self.message(message)?;
        match self.transport.send(email).await {
            // The relay's answer to DATA is free text, not an id its later reports use.
            Ok(_) => Ok(Sent { provider_id: None }),
            Err(e) if e.is_permanent() => {
                Err(SendError::Permanent(format!("the relay refused: {e}")))
            }
            Err(e) if e.is_client() => Err(SendError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(SendError::Temporary(format!("SMTP: {e}"))),
        }
    }

    fn name(&self) -> &'static str {
        "smtp"
    }
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// The `Message-ID` for a message: `<{reference}@{domain}>`, the same on every retry so that a
/// receiving server or mail client can tell a retry from a new message, and so that a
/// resident's reply, which names it in `In-Reply-To`, leads back to the message.
pub fn message_id(reference: &str, domain: &str) -> String {
    let local: String = reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let local = local.trim_matches('.');
    let local = if local.is_empty() { "message" } else { local };
    format!("<{local}@{domain}>")
}

/// The plain text as HTML: escaped, blank lines ending paragraphs and other line breaks kept.
pub fn text_to_html(text: &str) -> String {
    let mut paragraphs: Vec<Vec<String>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim().is_empty() {
            paragraphs.push(Vec::new());
        } else {
            paragraphs
                .last_mut()
                .expect("never empty")
                .push(escape(line));
        }
    }
    let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
    for lines in paragraphs.iter().filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        html.push_str(&lines.join("<br>\n"));
        html.push_str("</p>\n");
    }
    html.push_str("</body></html>\n");
    html
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_keeps_paragraphs_and_line_breaks() {
        let html = text_to_html("Dear <Sam> & co,\r\n\r\nLine one\nLine two\n\n\n\nBye");
        assert!(html.contains("<p>Dear &lt;Sam&gt; &amp; co,</p>"));
        assert!(html.contains("<p>Line one<br>\nLine two</p>"));
        assert!(html.contains("<p>Bye</p>"));
        assert!(!html.contains("<Sam>"));
    }

    #[test]
    fn message_ids_are_stable_and_well_formed() {
        assert_eq!(
            message_id("msg-42", "council.gov.uk"),
            "<msg-42@council.gov.uk>"
        );
        assert_eq!(message_id("a b<c>@d", "x.uk"), "<a-b-c--d@x.uk>");
        assert_eq!(message_id("", "x.uk"), "<message@x.uk>");
    }
}
