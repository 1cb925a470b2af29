//! SmtpSender against a small but real SMTP server on a random local port (`testing`), which
//! speaks EHLO/MAIL/RCPT/DATA/QUIT with real reply codes and keeps what it was given.

use std::time::Duration;

use casework_channels::smtp::{SmtpConfig, SmtpSender, TlsMode};
use casework_channels::testing::SmtpStandIn;
use casework_channels::{OutChannel, Outgoing, SendError, Sender};
use mail_parser::{MessageParser, MimeHeaders};
use tokio::net::TcpListener;

async fn start(rcpt_reply: &'static str) -> (u16, SmtpStandIn) {
    let server = SmtpStandIn::start(rcpt_reply).await;
    (server.port, server)
}

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: TlsMode::None,
        credentials: None,
        from: "Housing Repairs <repairs@council.gov.uk>".into(),
        reply_to: Some("replies@council.gov.uk".into()),
        timeout: Duration::from_secs(5),
    }
}

fn email() -> Outgoing {
    Outgoing {
        reference: "msg-42".into(),
        channel: OutChannel::Email,
        to: "Sam Resident <sam@example.com>".into(),
        subject: Some("Your repair CW-000123".into()),
        body: "Hello Sam,\n\nWe will visit on Tuesday <am> & fix it.\nThanks".into(),
        reply_to: Some("reply+abc123@council.gov.uk".into()),
    }
}

#[tokio::test]
async fn sends_multipart_email_with_headers_built_from_the_message() {
    let (port, received) = start("250 2.1.5 OK").await;
    let sender = SmtpSender::new(config(port)).unwrap();
    let sent = sender.send(&email()).await.unwrap();
    assert_eq!(sent.provider_id, None);

    let received = received.received();
    assert_eq!(received.len(), 1);
    let envelope = &received[0];
    assert_eq!(envelope.mail_from, "<repairs@council.gov.uk>");
    assert_eq!(envelope.rcpt_to, ["<sam@example.com>"]);

    let message = MessageParser::default()
        .parse(envelope.data.as_bytes())
        .unwrap();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("repairs@council.gov.uk"));
    assert_eq!(from.name(), Some("Housing Repairs"));
    // The message's own reply address wins over the sender's default.
    let reply_to = message.reply_to().unwrap().first().unwrap();
    assert_eq!(reply_to.address(), Some("reply+abc123@council.gov.uk"));
    assert_eq!(message.subject(), Some("Your repair CW-000123"));
    assert_eq!(message.message_id(), Some("msg-42@council.gov.uk"));

    let content_type = message.content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(message.text_body_count(), 1);
    assert_eq!(message.html_body_count(), 1);
    let text = message.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(text.trim_end(), email().body);
    let html = message.body_html(0).unwrap().replace("\r\n", "\n");
    assert!(html.contains("<p>Hello Sam,</p>"), "{html}");
    assert!(
        html.contains("<p>We will visit on Tuesday &lt;am&gt; &amp; fix it.<br>\nThanks</p>"),
        "{html}"
    );
}

#[tokio::test]
async fn uses_the_default_reply_to_when_the_message_has_none() {
    let (port, received) = start("250 2.1.5 OK").await;
    let mut message = email();
    message.reply_to = None;
    SmtpSender::new(config(port))
        .unwrap()
        .send(&message)
        .await
        .unwrap();
    let data = received.received()[0].data.clone();
    let parsed = MessageParser::default().parse(data.as_bytes()).unwrap();
    let reply_to = parsed.reply_to().unwrap().first().unwrap();
    assert_eq!(reply_to.address(), Some("replies@council.gov.uk"));
}

#[tokio::test]
async fn a_4xx_refusal_is_temporary() {
    let (port, received) = start("450 4.2.1 Mailbox busy, try again later").await;
    let error = SmtpSender::new(config(port))
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(error.is_temporary(), "{error:?}");
    assert!(received.received().is_empty());
}

#[tokio::test]
async fn a_5xx_refusal_is_permanent() {
    let (port, _) = start("550 5.1.1 No such user here").await;
    let error = SmtpSender::new(config(port))
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
}

#[tokio::test]
async fn connection_refused_is_temporary() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let error = SmtpSender::new(config(port))
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(error.is_temporary(), "{error:?}");
}

#[tokio::test]
async fn tls_modes_never_fall_back_to_plain_text() {
    let (port, received) = start("250 2.1.5 OK").await;
    // The test server offers no STARTTLS: a relay that stops offering it is refused rather
    // than sent the message in the clear.
    let mut starttls = config(port);
    starttls.tls = TlsMode::StartTls;
    let error = SmtpSender::new(starttls)
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    // Nor does TLS from the first byte talk to a plain-text server.
    let mut tls = config(port);
    tls.tls = TlsMode::Tls;
    assert!(SmtpSender::new(tls).unwrap().send(&email()).await.is_err());
    assert!(received.received().is_empty());
}

#[tokio::test]
async fn sms_and_bad_addresses_are_permanent_without_a_connection() {
    let sender = SmtpSender::new(config(1)).unwrap();
    let mut sms = email();
    sms.channel = OutChannel::Sms;
    assert!(matches!(
        sender.send(&sms).await,
        Err(SendError::Permanent(_))
    ));
    let mut bad = email();
    bad.to = "not an address".into();
    assert!(matches!(
        sender.send(&bad).await,
        Err(SendError::Permanent(_))
    ));
}

#[test]
fn a_bad_from_address_is_a_configuration_error() {
    let mut config = config(25);
    config.from = "nobody".into();
    assert!(SmtpSender::new(config).is_err());
}
