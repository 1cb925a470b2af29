//! How messages leave: the email and SMS senders chosen by `CASEWORK_EMAIL_SENDER` and
//! `CASEWORK_SMS_SENDER`, and their providers' settings. A setting that is wrong or missing
//! for the chosen sender stops start-up with the variable's name, never a secret's value.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use casework_app::Senders;
use casework_channels::Sender;
use casework_channels::dev::DevSender;
use casework_channels::notify::{self, ApiKey, NotifyConfig, NotifySender};
use casework_channels::smtp::{SmtpConfig, SmtpSender, TlsMode};
use clap::{ArgMatches, Args, ValueEnum};

/// How long to wait for the SMTP relay before calling an attempt temporary.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmailSender {
    /// GOV.UK Notify.
    Notify,
    /// The council's own SMTP relay.
    Smtp,
    /// Sends nothing: the dev outbox shows what would have gone.
    Dev,
    /// No email: a message by email fails, for staff to see.
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmsSender {
    Notify,
    Dev,
    Off,
}

/// The senders' settings, for `serve`, `worker` and `config`.
#[derive(Debug, Clone, Args)]
pub struct Channels {
    /// How email leaves: notify, smtp, dev or off. Default: dev with `serve --demo`, otherwise
    /// off.
    #[arg(long, env = "CASEWORK_EMAIL_SENDER")]
    pub email_sender: Option<EmailSender>,
    /// How text messages leave: notify, dev or off. Default: dev with `serve --demo`, otherwise
    /// off.
    #[arg(long, env = "CASEWORK_SMS_SENDER")]
    pub sms_sender: Option<SmsSender>,
    /// The GOV.UK Notify API key (or CASEWORK_NOTIFY_API_KEY_FILE, a file holding it).
    #[arg(long, env = "CASEWORK_NOTIFY_API_KEY", hide_env_values = true)]
    pub notify_api_key: Option<String>,
    /// Notify's API address; another only for a test.
    #[arg(long, env = "CASEWORK_NOTIFY_BASE_URL", default_value = notify::DEFAULT_BASE_URL)]
    pub notify_base_url: String,
    /// The Notify email template whose subject is `((subject))` and message `((body))`.
    #[arg(long, env = "CASEWORK_NOTIFY_EMAIL_TEMPLATE_ID")]
    pub notify_email_template_id: Option<uuid::Uuid>,
    /// The Notify text message template whose message is `((body))`.
    #[arg(long, env = "CASEWORK_NOTIFY_SMS_TEMPLATE_ID")]
    pub notify_sms_template_id: Option<uuid::Uuid>,
    /// The id of a reply-to address set up in Notify; Notify's default without it.
    #[arg(long, env = "CASEWORK_NOTIFY_EMAIL_REPLY_TO_ID")]
    pub notify_email_reply_to_id: Option<uuid::Uuid>,
    /// The id of a text message sender set up in Notify; Notify's default without it.
    #[arg(long, env = "CASEWORK_NOTIFY_SMS_SENDER_ID")]
    pub notify_sms_sender_id: Option<uuid::Uuid>,
    /// The relay, in lettre's URL form: `smtp://HOST:PORT` (plain text: only on the same
    /// host), `smtp://HOST:587?tls=required` (STARTTLS) or `smtps://HOST:465` (TLS), with
    /// `USER:PASSWORD@` before the host when the relay asks.
    #[arg(long, env = "CASEWORK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of email sent by SMTP, such as `Council <casework@council.gov.uk>`.
    #[arg(long, env = "CASEWORK_EMAIL_FROM")]
    pub email_from: Option<String>,
    /// The Reply-To address of email sent by SMTP; none without it.
    #[arg(long, env = "CASEWORK_EMAIL_REPLY_TO")]
    pub email_reply_to: Option<String>,
    /// The file the Notify API key was read from, when it came from
    /// `CASEWORK_NOTIFY_API_KEY_FILE`.
    #[arg(skip)]
    pub notify_api_key_file: Option<PathBuf>,
}

impl Channels {
    /// Reads the Notify API key from `CASEWORK_NOTIFY_API_KEY_FILE`, when set. A key given
    /// both ways is refused rather than one of them being ignored.
    pub fn read_secret_files(&mut self, matches: &ArgMatches) -> anyhow::Result<()> {
        let Some(path) = std::env::var_os("CASEWORK_NOTIFY_API_KEY_FILE") else {
            return Ok(());
        };
        if matches.value_source("notify_api_key").is_some() {
            bail!(
                "CASEWORK_NOTIFY_API_KEY_FILE and CASEWORK_NOTIFY_API_KEY (or --notify-api-key) \
                 are both set: set one"
            );
        }
        let path = PathBuf::from(path);
        self.notify_api_key =
            Some(crate::config::read_secret(&path).context("CASEWORK_NOTIFY_API_KEY_FILE")?);
        self.notify_api_key_file = Some(path);
        Ok(())
    }

    /// The senders these settings choose; without a choice, dev in a demo and none otherwise.
    pub fn senders(&self, demo: bool) -> anyhow::Result<Senders> {
        let email = self.email_sender.unwrap_or(if demo {
            EmailSender::Dev
        } else {
            EmailSender::Off
        });
        let sms = self
            .sms_sender
            .unwrap_or(if demo { SmsSender::Dev } else { SmsSender::Off });
        // One Notify sender for both channels: Notify's rate limit is per key.
        let notify = if email == EmailSender::Notify || sms == SmsSender::Notify {
            Some(self.notify()?)
        } else {
            None
        };
        let dev = || Arc::new(DevSender) as Arc<dyn Sender>;
        let email = match email {
            EmailSender::Notify => notify.clone(),
            EmailSender::Smtp => Some(self.smtp()?),
            EmailSender::Dev => Some(dev()),
            EmailSender::Off => None,
        };
        let sms = match sms {
            SmsSender::Notify => notify,
            SmsSender::Dev => Some(dev()),
            SmsSender::Off => None,
        };
        if self.email_sender != Some(EmailSender::Smtp)
            && let Some(variable) = [
                ("CASEWORK_SMTP_URL", self.smtp_url.is_some()),
                ("CASEWORK_EMAIL_FROM", self.email_from.is_some()),
                ("CASEWORK_EMAIL_REPLY_TO", self.email_reply_to.is_some()),
            ]
            .into_iter()
            .find_map(|(variable, set)| set.then_some(variable))
        {
            tracing::warn!(
                "{variable} is set but CASEWORK_EMAIL_SENDER is not smtp: it is not used"
            );
        }
        Ok(Senders { email, sms })
    }

    fn notify(&self) -> anyhow::Result<Arc<dyn Sender>> {
        let key = self.notify_api_key.as_deref().ok_or_else(|| {
            anyhow!(
                "CASEWORK_NOTIFY_API_KEY (or CASEWORK_NOTIFY_API_KEY_FILE) is needed to send \
                 through Notify"
            )
        })?;
        // The error says what is wrong with the key's shape, never the key.
        let key = ApiKey::parse(key).context("CASEWORK_NOTIFY_API_KEY is not right")?;
        let template = |id: Option<uuid::Uuid>, variable: &str| {
            id.map(|id| id.to_string()).ok_or_else(|| {
                anyhow!("{variable} is needed to send through Notify: see docs/operating.md")
            })
        };
        let sms_template = match self.sms_sender {
            Some(SmsSender::Notify) => template(
                self.notify_sms_template_id,
                "CASEWORK_NOTIFY_SMS_TEMPLATE_ID",
            )?,
            _ => String::new(),
        };
        let email_template = match self.email_sender {
            Some(EmailSender::Notify) => template(
                self.notify_email_template_id,
                "CASEWORK_NOTIFY_EMAIL_TEMPLATE_ID",
            )?,
            _ => String::new(),
        };
        let base_url = reqwest::Url::parse(&self.notify_base_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| {
                anyhow!("CASEWORK_NOTIFY_BASE_URL is not right: it must be an http(s) address")
            })?;
        let mut config = NotifyConfig::new(key, sms_template, email_template);
        config.base_url = base_url.as_str().trim_end_matches('/').to_owned();
        config.email_reply_to_id = self.notify_email_reply_to_id.map(|id| id.to_string());
        config.sms_sender_id = self.notify_sms_sender_id.map(|id| id.to_string());
        Ok(Arc::new(
            NotifySender::new(config).context("cannot send through Notify")?,
        ))
    }

    fn smtp(&self) -> anyhow::Result<Arc<dyn Sender>> {
        let url = self.smtp_url.as_deref().ok_or_else(|| {
            anyhow!("CASEWORK_SMTP_URL is needed when CASEWORK_EMAIL_SENDER is smtp")
        })?;
        let from = self.email_from.clone().ok_or_else(|| {
            anyhow!("CASEWORK_EMAIL_FROM is needed when CASEWORK_EMAIL_SENDER is smtp")
        })?;
        let mut config =
            smtp_config(url).map_err(|why| anyhow!("CASEWORK_SMTP_URL is not right: {why}"))?;
        config.from = from;
        config.reply_to = self.email_reply_to.clone();
        let sender = SmtpSender::new(config).map_err(|e| {
            let e = e.to_string();
            let variable = if e.contains("reply-to") {
                "CASEWORK_EMAIL_REPLY_TO"
            } else if e.contains("from address") {
                "CASEWORK_EMAIL_FROM"
            } else {
                "CASEWORK_SMTP_URL"
            };
            anyhow!("{variable} is not right: {e}")
        })?;
        Ok(Arc::new(sender))
    }
}

/// An SMTP relay from lettre's URL form: `smtp://` is plain text unless `?tls=required`
/// (STARTTLS), `smtps://` is TLS from the first byte. The From address is left empty for the
/// caller. Opportunistic TLS is refused: it falls back to plain text without a word.
fn smtp_config(url: &str) -> Result<SmtpConfig, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    let tls_parameter = parsed
        .query_pairs()
        .find(|(name, _)| name == "tls")
        .map(|(_, value)| value.into_owned());
    let tls = match (parsed.scheme(), tls_parameter.as_deref()) {
        ("smtps", None) => TlsMode::Tls,
        ("smtp", None) => TlsMode::None,
        ("smtp", Some("required")) => TlsMode::StartTls,
        ("smtp", Some("opportunistic")) => {
            return Err(
                "tls=opportunistic would send in plain text when the relay does not \
                        offer STARTTLS: use tls=required"
                    .into(),
            );
        }
        ("smtp" | "smtps", Some(other)) => {
            return Err(format!("tls={other} is not known: use tls=required"));
        }
        (scheme, _) => return Err(format!("use smtp:// or smtps://, not {scheme}://")),
    };
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or("it has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port().unwrap_or(match tls {
        TlsMode::Tls => 465,
        TlsMode::StartTls => 587,
        TlsMode::None => 25,
    });
    let credentials = match (parsed.username(), parsed.password()) {
        ("", None) => None,
        (user, Some(password)) => Some((percent_decode(user)?, percent_decode(password)?)),
        (_, None) => return Err("it has a user name but no password".into()),
    };
    Ok(SmtpConfig {
        host,
        port,
        tls,
        credentials,
        from: String::new(),
        reply_to: None,
        timeout: SMTP_TIMEOUT,
    })
}

/// A URL's user name or password as written before it was percent-encoded.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a % in the user name or password is not followed by two hex digits")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user name or password is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_choose_tls_and_ports() {
        let plain = smtp_config("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.tls),
            ("127.0.0.1", 2525, TlsMode::None)
        );
        assert_eq!(plain.credentials, None);
        let starttls =
            smtp_config("smtp://casework:p%40ss%3Aword@relay.council.gov.uk?tls=required").unwrap();
        assert_eq!(
            (starttls.host.as_str(), starttls.port, starttls.tls),
            ("relay.council.gov.uk", 587, TlsMode::StartTls)
        );
        assert_eq!(
            starttls.credentials,
            Some(("casework".into(), "p@ss:word".into()))
        );
        let tls = smtp_config("smtps://relay.council.gov.uk").unwrap();
        assert_eq!((tls.port, tls.tls), (465, TlsMode::Tls));
    }

    #[test]
    fn smtp_urls_that_would_mislead_are_refused() {
        for (url, why) in [
            ("smtp://relay?tls=opportunistic", "plain text"),
            ("smtp://relay?tls=yes", "tls=yes"),
            ("http://relay", "smtp://"),
            ("relay.council.gov.uk", "not a URL"),
            ("smtp://user@relay", "no password"),
            ("smtp://user:%zz@relay", "hex"),
        ] {
            let error = smtp_config(url).unwrap_err();
            assert!(error.contains(why), "{url}: {error}");
        }
    }
}
