//! The senders as an operator configures them: `casework serve` sending email through a real
//! SMTP listener and text messages through the Notify stand-in, settings that stop start-up,
//! and `casework config` keeping the senders' secrets to itself.

mod support;

use std::time::Duration;

use casework_channels::testing::{
    EMAIL_TEMPLATE, NotifyAnswer, NotifyStandIn, SMS_TEMPLATE, SmtpStandIn, notify_api_key,
};
use casework_store::testing::TestDatabase;
use support::{Process, casework, client, create_case, messages, send_message, text, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_leave_by_the_configured_senders() {
    let database = TestDatabase::sqlite();
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    let smtp = SmtpStandIn::start("250 2.1.5 OK").await;
    let key = support::api_key(&database.url);
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_EMAIL_SENDER", "smtp")
        .env(
            "CASEWORK_SMTP_URL",
            format!("smtp://127.0.0.1:{}", smtp.port),
        )
        .env("CASEWORK_EMAIL_FROM", "Waste Team <waste@council.example>")
        .env("CASEWORK_EMAIL_REPLY_TO", "replies@council.example")
        .env("CASEWORK_SMS_SENDER", "notify")
        .env("CASEWORK_NOTIFY_API_KEY", notify_api_key())
        .env("CASEWORK_NOTIFY_BASE_URL", &notify.url)
        .env("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", SMS_TEMPLATE);
    let server = Process::serve(command);
    let client = client();
    let reference = create_case(&client, &server.url, &key).await;
    let email = send_message(&client, &server.url, &key, &reference, "email").await;
    let sms = send_message(&client, &server.url, &key, &reference, "sms").await;

    wait_until("both messages sent", Duration::from_secs(20), async || {
        let listed = messages(&client, &server.url, &key, &reference).await;
        listed.len() == 2 && listed.iter().all(|m| m["status"] == "sent")
    })
    .await;
    let envelopes = smtp.received();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].rcpt_to, ["<amira.khan@example.com>"]);
    assert_eq!(envelopes[0].mail_from, "<waste@council.example>");
    assert_eq!(
        envelopes[0].message_id(),
        Some(format!("{email}@council.example").as_str())
    );
    assert!(
        envelopes[0]
            .data
            .contains("Reply-To: replies@council.example")
    );
    let texts = notify.received();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].kind, "sms");
    assert_eq!(texts[0].reference(), Some(sms.as_str()));
    assert_eq!(texts[0].body["phone_number"], "07700900123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_sends_email_too_and_without_a_sender_a_message_fails() {
    let database = TestDatabase::sqlite();
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    let key = support::api_key(&database.url);
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_EMAIL_SENDER", "notify")
        .env("CASEWORK_NOTIFY_API_KEY", notify_api_key())
        .env("CASEWORK_NOTIFY_BASE_URL", &notify.url)
        .env("CASEWORK_NOTIFY_EMAIL_TEMPLATE_ID", EMAIL_TEMPLATE);
    let server = Process::serve(command);
    let client = client();
    let reference = create_case(&client, &server.url, &key).await;
    let email = send_message(&client, &server.url, &key, &reference, "email").await;
    // No SMS sender is set: off, outside a demo.
    send_message(&client, &server.url, &key, &reference, "sms").await;
    wait_until(
        "both messages settled",
        Duration::from_secs(20),
        async || {
            let listed = messages(&client, &server.url, &key, &reference).await;
            listed.len() == 2 && listed.iter().all(|m| m["status"] != "queued")
        },
    )
    .await;
    let listed = messages(&client, &server.url, &key, &reference).await;
    assert_eq!(listed[0]["status"], "sent");
    assert_eq!(listed[1]["status"], "permanent-failure");
    assert_eq!(
        listed[1]["error"],
        "No way of sending text messages is set up."
    );
    let sent = notify.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, "email");
    assert_eq!(sent[0].reference(), Some(email.as_str()));
    assert_eq!(sent[0].body["personalisation"]["subject"], "Your bin");
}

#[test]
fn a_wrong_sender_setting_stops_start_up_naming_it() {
    let database = TestDatabase::sqlite();
    let secret_key = "my-key-with-a-secret-that-must-not-be-printed";
    let good_key = notify_api_key();
    let smtp = [("CASEWORK_EMAIL_SENDER", "smtp")];
    let notify_sms = [
        ("CASEWORK_SMS_SENDER", "notify"),
        ("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", SMS_TEMPLATE),
    ];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("CASEWORK_EMAIL_SENDER", "pigeon")],
            "CASEWORK_EMAIL_SENDER",
        ),
        (vec![("CASEWORK_SMS_SENDER", "smtp")], "CASEWORK_SMS_SENDER"),
        (smtp.to_vec(), "CASEWORK_SMTP_URL"),
        (
            [&smtp[..], &[("CASEWORK_SMTP_URL", "smtp://relay.example")]].concat(),
            "CASEWORK_EMAIL_FROM",
        ),
        (
            [
                &smtp[..],
                &[
                    (
                        "CASEWORK_SMTP_URL",
                        "smtp://relay.example?tls=opportunistic",
                    ),
                    ("CASEWORK_EMAIL_FROM", "waste@council.example"),
                ],
            ]
            .concat(),
            "CASEWORK_SMTP_URL",
        ),
        (
            [
                &smtp[..],
                &[
                    ("CASEWORK_SMTP_URL", "smtp://relay.example"),
                    ("CASEWORK_EMAIL_FROM", "nobody"),
                ],
            ]
            .concat(),
            "CASEWORK_EMAIL_FROM",
        ),
        (notify_sms.to_vec(), "CASEWORK_NOTIFY_API_KEY"),
        (
            [&notify_sms[..], &[("CASEWORK_NOTIFY_API_KEY", secret_key)]].concat(),
            "CASEWORK_NOTIFY_API_KEY",
        ),
        (
            vec![
                ("CASEWORK_SMS_SENDER", "notify"),
                ("CASEWORK_NOTIFY_API_KEY", &good_key),
            ],
            "CASEWORK_NOTIFY_SMS_TEMPLATE_ID",
        ),
        (
            [
                &notify_sms[..],
                &[
                    ("CASEWORK_NOTIFY_API_KEY", &good_key),
                    ("CASEWORK_NOTIFY_BASE_URL", "notify.example"),
                ],
            ]
            .concat(),
            "CASEWORK_NOTIFY_BASE_URL",
        ),
        (
            vec![("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", "sms-template")],
            "CASEWORK_NOTIFY_SMS_TEMPLATE_ID",
        ),
    ];
    for (settings, variable) in cases {
        for command in ["serve", "worker", "config"] {
            let output = casework(&database.url)
                .args([command])
                .envs(settings.iter().copied())
                .env("CASEWORK_LISTEN", "127.0.0.1:0")
                .output()
                .unwrap();
            let printed = text(&output);
            assert!(
                !output.status.success(),
                "{settings:?} {command}: {printed}"
            );
            assert!(
                printed.contains(variable),
                "{settings:?} {command}: expected {variable} in {printed}"
            );
            assert!(!printed.contains("secret-that-must"), "{printed}");
        }
    }
}

#[test]
fn config_shows_the_senders_and_masks_their_secrets() {
    let dir = std::env::temp_dir().join(format!("casework-senders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("notify-key");
    std::fs::write(&key_file, format!("{}\n", notify_api_key())).unwrap();
    let output = casework("sqlite:unused.db")
        .arg("config")
        .env("CASEWORK_EMAIL_SENDER", "smtp")
        .env(
            "CASEWORK_SMTP_URL",
            "smtp://casework:hunter2@relay.example?tls=required",
        )
        .env("CASEWORK_EMAIL_FROM", "waste@council.example")
        .env("CASEWORK_SMS_SENDER", "notify")
        .env("CASEWORK_NOTIFY_API_KEY_FILE", &key_file)
        .env("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", SMS_TEMPLATE)
        .output()
        .unwrap();
    let both = casework("sqlite:unused.db")
        .arg("config")
        .env("CASEWORK_NOTIFY_API_KEY_FILE", &key_file)
        .env("CASEWORK_NOTIFY_API_KEY", notify_api_key())
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(
        !printed.contains(casework_channels::testing::SECRET),
        "{printed}"
    );
    let line = |variable: &str| {
        printed
            .lines()
            .find(|line| line.starts_with(&format!("{variable} ")))
            .unwrap_or_else(|| panic!("no {variable} in:\n{printed}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("CASEWORK_SMTP_URL"),
        "CASEWORK_SMTP_URL smtp://casework:********@relay.example?tls=required (environment)"
    );
    assert!(
        line("CASEWORK_NOTIFY_API_KEY").starts_with(&format!(
            "CASEWORK_NOTIFY_API_KEY ******** (file in CASEWORK_NOTIFY_API_KEY_FILE ({}",
            key_file.display()
        )),
        "{printed}"
    );
    assert_eq!(
        line("CASEWORK_NOTIFY_BASE_URL"),
        "CASEWORK_NOTIFY_BASE_URL https://api.notifications.service.gov.uk (default)"
    );
    assert_eq!(
        line("CASEWORK_EMAIL_SENDER"),
        "CASEWORK_EMAIL_SENDER smtp (environment)"
    );
    for variable in [
        "CASEWORK_EMAIL_FROM",
        "CASEWORK_EMAIL_REPLY_TO",
        "CASEWORK_SMS_SENDER",
        "CASEWORK_NOTIFY_EMAIL_TEMPLATE_ID",
        "CASEWORK_NOTIFY_SMS_TEMPLATE_ID",
        "CASEWORK_SHUTDOWN_GRACE",
        "CASEWORK_JOB_LEASE",
    ] {
        line(variable);
    }
    assert!(!both.status.success());
    assert!(text(&both).contains("both set"), "{}", text(&both));
}
