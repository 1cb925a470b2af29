//! The inbound parsers: Notify's callbacks and raw email, on payloads shaped like the real
//! ones, on malformed input (an error, never a panic) and on arbitrary bytes.

use casework_channels::ParseError;
use casework_channels::email::InboundEmail;
use casework_channels::notify::{DeliveryReceipt, DeliveryStatus, NotificationType, ReceivedText};
use proptest::prelude::*;
use time::macros::datetime;

const RECEIPT: &str = r#"{
  "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
  "reference": "msg-42",
  "to": "07700912345",
  "status": "delivered",
  "created_at": "2017-05-14T12:15:30.000000Z",
  "completed_at": "2017-05-14T12:15:31.123456Z",
  "sent_at": "2017-05-14T12:15:30.500000Z",
  "notification_type": "sms",
  "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
  "template_version": 1
}"#;

#[test]
fn reads_a_delivery_receipt() {
    let receipt = DeliveryReceipt::parse(RECEIPT.as_bytes()).unwrap();
    assert_eq!(receipt.id, "740e5834-3a29-46b4-9a6f-16142fde533a");
    assert_eq!(receipt.reference.as_deref(), Some("msg-42"));
    assert_eq!(receipt.to, "07700912345");
    assert_eq!(receipt.status, DeliveryStatus::Delivered);
    assert!(receipt.status.is_final());
    assert_eq!(receipt.notification_type, NotificationType::Sms);
    assert_eq!(receipt.created_at, datetime!(2017-05-14 12:15:30 UTC));
    assert_eq!(
        receipt.completed_at,
        Some(datetime!(2017-05-14 12:15:31.123456 UTC))
    );
    assert_eq!(receipt.sent_at, Some(datetime!(2017-05-14 12:15:30.5 UTC)));
}

#[test]
fn reads_every_status_and_keeps_an_unknown_one() {
    for (name, status) in [
        ("created", DeliveryStatus::Created),
        ("sending", DeliveryStatus::Sending),
        ("delivered", DeliveryStatus::Delivered),
        ("permanent-failure", DeliveryStatus::PermanentFailure),
        ("temporary-failure", DeliveryStatus::TemporaryFailure),
        ("technical-failure", DeliveryStatus::TechnicalFailure),
        (
            "pending-virus-check",
            DeliveryStatus::Other("pending-virus-check".into()),
        ),
    ] {
        let body = RECEIPT.replace("\"delivered\"", &format!("{name:?}"));
        let receipt = DeliveryReceipt::parse(body.as_bytes()).unwrap();
        assert_eq!(receipt.status, status);
        assert_eq!(receipt.status.as_str(), name);
    }
}

#[test]
fn a_receipt_still_sending_has_no_completion_and_no_reference() {
    let body = r#"{"id": "a", "reference": null, "to": "sam@example.com", "status": "sending",
        "created_at": "2026-12-04T10:00:00.000000Z", "completed_at": null, "sent_at": null,
        "notification_type": "email"}"#;
    let receipt = DeliveryReceipt::parse(body.as_bytes()).unwrap();
    assert_eq!(receipt.reference, None);
    assert_eq!(receipt.completed_at, None);
    assert_eq!(receipt.notification_type, NotificationType::Email);
    assert!(!receipt.status.is_final());
}

#[test]
fn a_time_without_an_offset_is_utc() {
    let body = RECEIPT.replace("2017-05-14T12:15:30.000000Z", "2017-05-14 12:15:30.000000");
    let receipt = DeliveryReceipt::parse(body.as_bytes()).unwrap();
    assert_eq!(receipt.created_at, datetime!(2017-05-14 12:15:30 UTC));
}

#[test]
fn malformed_receipts_are_errors() {
    for body in [
        "".to_owned(),
        "{".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        RECEIPT.replace("\"id\"", "\"identifier\""),
        RECEIPT.replace("\"sms\"", "\"pigeon\""),
        RECEIPT.replace("2017-05-14T12:15:30.000000Z", "yesterday"),
        RECEIPT.replace("\"to\": \"07700912345\"", "\"to\": 7700912345"),
    ] {
        assert!(
            matches!(
                DeliveryReceipt::parse(body.as_bytes()),
                Err(ParseError::Json(_))
            ),
            "{body}"
        );
    }
}

#[test]
fn reads_a_received_text() {
    let body = r#"{
      "id": "b51f638b-4295-46c0-a06e-cd9b9c8e4ed3",
      "source_number": "447700912345",
      "destination_number": "07700987654",
      "message": "Yes, Tuesday is fine",
      "date_received": "2017-05-14T12:15:30.000000Z"
    }"#;
    let text = ReceivedText::parse(body.as_bytes()).unwrap();
    assert_eq!(text.id, "b51f638b-4295-46c0-a06e-cd9b9c8e4ed3");
    assert_eq!(text.source_number, "447700912345");
    assert_eq!(text.destination_number, "07700987654");
    assert_eq!(text.message, "Yes, Tuesday is fine");
    assert_eq!(text.date_received, datetime!(2017-05-14 12:15:30 UTC));
    assert!(ReceivedText::parse(b"{\"id\": \"x\"}").is_err());
    assert!(ReceivedText::parse(&[0xff, 0xfe, 0x00]).is_err());
}

const REPLY: &str = "From: Sam Resident <sam@example.com>\r
To: Housing Repairs <reply+tok123@council.gov.uk>, other@example.com\r
Cc: cc@example.com\r
Subject: Re: Your repair CW-000123\r
Message-ID: <CAF1234@mail.example.com>\r
In-Reply-To: <msg-42@council.gov.uk>\r
References: <msg-40@council.gov.uk> <msg-42@council.gov.uk>\r
Date: Fri, 4 Dec 2026 10:15:00 +0000\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"outer\"\r
\r
--outer\r
Content-Type: multipart/alternative; boundary=\"inner\"\r
\r
--inner\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: quoted-printable\r
\r
Tuesday is fine, the side gate will be open.\r
\r
On Thu, 3 Dec 2026 at 16:00, Housing Repairs <repairs@council.gov.uk> wrote:\r
> We can visit on Tuesday =E2=80=93 does that suit?\r
\r
--inner\r
Content-Type: text/html; charset=utf-8\r
\r
<p>Tuesday is fine, the side gate will be <b>open</b>.</p>\r
--inner--\r
\r
--outer\r
Content-Type: image/jpeg; name=\"leak.jpg\"\r
Content-Disposition: attachment; filename=\"leak.jpg\"\r
Content-Transfer-Encoding: base64\r
\r
/9j/4AAQSkZJRgABAQ==\r
--outer--\r
";

#[test]
fn reads_an_inbound_reply_with_threading_headers_and_an_attachment() {
    let email = InboundEmail::parse(REPLY.as_bytes()).unwrap();
    assert_eq!(email.from.address, "sam@example.com");
    assert_eq!(email.from.name.as_deref(), Some("Sam Resident"));
    let to: Vec<_> = email.to.iter().map(|a| a.address.as_str()).collect();
    assert_eq!(to, ["reply+tok123@council.gov.uk", "other@example.com"]);
    assert_eq!(email.cc[0].address, "cc@example.com");
    assert_eq!(email.subject.as_deref(), Some("Re: Your repair CW-000123"));
    assert_eq!(
        email.message_id.as_deref(),
        Some("CAF1234@mail.example.com")
    );
    assert_eq!(email.in_reply_to, ["msg-42@council.gov.uk"]);
    assert_eq!(
        email.references,
        ["msg-40@council.gov.uk", "msg-42@council.gov.uk"]
    );
    // The plain part is preferred, and kept whole, quoted history and all.
    assert!(
        email
            .text
            .starts_with("Tuesday is fine, the side gate will be open.")
    );
    assert!(
        email
            .text
            .contains("> We can visit on Tuesday – does that suit?")
    );
    assert_eq!(
        email.reply_text(),
        "Tuesday is fine, the side gate will be open."
    );

    assert_eq!(email.attachments.len(), 1);
    let attachment = &email.attachments[0];
    assert_eq!(attachment.filename.as_deref(), Some("leak.jpg"));
    assert_eq!(attachment.content_type, "image/jpeg");
    assert_eq!(
        attachment.bytes,
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"
    );
    assert_eq!(attachment.size, attachment.bytes.len());
}

#[test]
fn an_html_only_email_is_read_as_text() {
    let raw = "From: sam@example.com\r\nTo: reply+t@council.gov.uk\r\nSubject: Hi\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>The bin was <b>missed</b> again.</p><script>x()</script></body></html>\r\n";
    let email = InboundEmail::parse(raw.as_bytes()).unwrap();
    assert!(
        email.text.contains("The bin was missed again."),
        "{:?}",
        email.text
    );
    assert!(!email.text.contains('<'), "{:?}", email.text);
    assert!(email.attachments.is_empty());
    assert!(email.message_id.is_none() && email.in_reply_to.is_empty());
}

#[test]
fn a_latin1_email_is_decoded() {
    let mut raw = b"From: sam@example.com\r\nSubject: =?ISO-8859-1?Q?Caf=E9?=\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCaf"
        .to_vec();
    raw.extend_from_slice(b"\xe9 closed\r\n");
    let email = InboundEmail::parse(&raw).unwrap();
    assert_eq!(email.subject.as_deref(), Some("Café"));
    assert_eq!(email.text.trim_end(), "Café closed");
}

#[test]
fn input_without_a_sender_is_an_error() {
    for raw in [
        &b""[..],
        b"just some text, no headers",
        b"Subject: no sender\r\n\r\nbody",
        b"From: \r\n\r\nbody",
        b"\xff\xfe\x00\x01",
    ] {
        assert!(
            matches!(InboundEmail::parse(raw), Err(ParseError::Email(_))),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn a_huge_deeply_nested_message_does_not_panic() {
    let mut raw = String::from("From: a@b.c\r\n");
    for i in 0..2_000 {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    let _ = InboundEmail::parse(raw.as_bytes());
    let big = format!("From: a@b.c\r\n\r\n{}", "x".repeat(5_000_000));
    let email = InboundEmail::parse(big.as_bytes()).unwrap();
    assert_eq!(email.text.trim_end().len(), 5_000_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = InboundEmail::parse(&bytes).map(|e| e.reply_text());
        let _ = DeliveryReceipt::parse(&bytes);
        let _ = ReceivedText::parse(&bytes);
    }

    #[test]
    fn mangled_emails_never_panic(cut in 0..REPLY.len(), junk in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut raw = REPLY.as_bytes()[..cut].to_vec();
        raw.extend_from_slice(&junk);
        raw.extend_from_slice(&REPLY.as_bytes()[cut..]);
        let _ = InboundEmail::parse(&raw).map(|e| e.reply_text());
    }

    #[test]
    fn mangled_receipts_never_panic(cut in 0..RECEIPT.len(), junk in "\\PC{0,16}") {
        let body = format!("{}{}{}", &RECEIPT[..cut], junk, &RECEIPT[cut..]);
        let _ = DeliveryReceipt::parse(body.as_bytes());
    }
}
