//! Inbound email: a raw MIME message, as an SMTP relay or mail gateway posts it.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

use crate::ParseError;

/// One address from a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    pub name: Option<String>,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: Option<String>,
    /// e.g. `application/pdf`; `application/octet-stream` when the message does not say.
    pub content_type: String,
    pub size: usize,
    pub bytes: Vec<u8>,
}

/// The parts of an inbound email that Casework uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEmail {
    pub from: EmailAddress,
    /// Every `To` address, in order: one of them may be a case's reply address.
    pub to: Vec<EmailAddress>,
    /// Every `Cc` address: a resident may copy a case's reply address rather than reply to it.
    pub cc: Vec<EmailAddress>,
    pub subject: Option<String>,
    /// Without angle brackets, as are `in_reply_to` and `references`.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The text/plain body, or the HTML body as text when there is no plain one. The whole
    /// of it, quoted history included: [`InboundEmail::reply_text`] is the trimmed view.
    pub text: String,
    pub attachments: Vec<Attachment>,
}

impl InboundEmail {
    /// Parses a raw RFC 5322 message. It fails only when there is nothing to file: no
    /// headers at all or no sender address; odd encodings and broken MIME parts are read as
    /// well as they can be.
    pub fn parse(raw: &[u8]) -> Result<InboundEmail, ParseError> {
        let message = MessageParser::default()
            .parse(raw)
            .ok_or_else(|| ParseError::Email("not an email message".into()))?;
        let from = message
            .from()
            .and_then(|from| addresses(from).into_iter().next())
            .ok_or_else(|| ParseError::Email("no From address".into()))?;
        let text = message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default();
        let attachments = message
            .attachments()
            .map(|part| Attachment {
                filename: part.attachment_name().map(str::to_owned),
                content_type: part
                    .content_type()
                    .map(|ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".to_owned())
                    .to_ascii_lowercase(),
                size: part.contents().len(),
                bytes: part.contents().to_vec(),
            })
            .collect();
        Ok(InboundEmail {
            from,
            to: message.to().map(addresses).unwrap_or_default(),
            cc: message.cc().map(addresses).unwrap_or_default(),
            subject: message.subject().map(str::to_owned),
            message_id: message.message_id().map(str::to_owned),
            in_reply_to: ids(message.in_reply_to()),
            references: ids(message.references()),
            text,
            attachments,
        })
    }

    /// The reply without the quoted history and signature that mail clients add, for
    /// display. Falls back to the whole text when trimming would leave nothing.
    pub fn reply_text(&self) -> String {
        reply_text(&self.text)
    }
}

fn addresses(address: &Address<'_>) -> Vec<EmailAddress> {
    address
        .iter()
        .filter_map(|addr| {
            let address = addr.address()?.trim();
            (!address.is_empty()).then(|| EmailAddress {
                name: addr
                    .name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                address: address.to_owned(),
            })
        })
        .collect()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect()
}

/// Trims what mail clients add below (or around) a reply: lines quoted with `>`, everything
/// from an attribution line ("On … wrote:", Welsh "Ar … ysgrifennodd:"), an Outlook
/// "-----Original Message-----" or a signature delimiter ("-- ") on.
pub fn reply_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
        if is_signature_delimiter(line)
            || is_original_message(trimmed)
            || is_attribution(trimmed, next)
        {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        kept.push(line.trim_end());
    }
    while kept.last().is_some_and(|l| l.is_empty()) {
        kept.pop();
    }
    while kept.first().is_some_and(|l| l.is_empty()) {
        kept.remove(0);
    }
    if kept.is_empty() {
        return text.trim().to_owned();
    }
    kept.join("\n")
}

fn is_signature_delimiter(line: &str) -> bool {
    line == "-- " || line == "--"
}

fn is_original_message(line: &str) -> bool {
    let inner = line.trim_matches('-').trim();
    line.starts_with("---") && inner.eq_ignore_ascii_case("original message")
}

/// An attribution line, which mail clients sometimes wrap onto a second line.
fn is_attribution(line: &str, next: &str) -> bool {
    let opens = |l: &str| l.starts_with("On ") || l.starts_with("Ar ");
    let closes = |l: &str| l.ends_with("wrote:") || l.ends_with("ysgrifennodd:");
    opens(line) && (closes(line) || (closes(next) && line.len() + next.len() < 300))
}

#[cfg(test)]
mod tests {
    use super::reply_text;

    #[test]
    fn keeps_the_reply_above_an_attribution() {
        let text = "Thanks, Tuesday is fine.\n\nOn Fri, 4 Dec 2026 at 10:00, Council <c@x.uk> wrote:\n> When can we visit?\n";
        assert_eq!(reply_text(text), "Thanks, Tuesday is fine.");
    }

    #[test]
    fn joins_a_wrapped_attribution() {
        let text = "Yes please\r\n\r\nOn Fri, 4 Dec 2026 at 10:00, Housing Repairs <repairs@council.gov.uk>\r\nwrote:\r\n> Shall we book?";
        assert_eq!(reply_text(text), "Yes please");
    }

    #[test]
    fn drops_quotes_signature_and_outlook_history() {
        let text = "> old\nInline answer\n-- \nSam\n07700 900111";
        assert_eq!(reply_text(text), "Inline answer");
        let text = "Done.\n\n-----Original Message-----\nFrom: Council\nSubject: Repair";
        assert_eq!(reply_text(text), "Done.");
    }

    #[test]
    fn a_message_that_is_all_quote_is_kept_whole() {
        assert_eq!(reply_text("> only a quote\n"), "> only a quote");
    }

    #[test]
    fn on_in_an_ordinary_sentence_is_kept() {
        let text = "On Monday the bin was missed again.\nPlease send someone.";
        assert_eq!(reply_text(text), text);
    }
}
