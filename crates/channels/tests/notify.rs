//! NotifySender against the local stand-in that speaks Notify's v2 API (`testing`): it checks
//! the JWT the way Notify does (HS256 with the key's secret, `iss` = service id, `iat` within 30
//! seconds) and the request body, and answers with Notify's shapes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use casework_channels::limit::RateLimiter;
use casework_channels::notify::{ApiKey, NotifyConfig, NotifySender};
use casework_channels::testing::{
    EMAIL_TEMPLATE, NotifyAnswer, NotifyStandIn, Received, SECRET, SERVICE_ID, SMS_TEMPLATE,
    notify_api_key,
};
use casework_channels::{OutChannel, Outgoing, SendError, Sender};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::time::Instant;

async fn start(answer: NotifyAnswer) -> NotifyStandIn {
    NotifyStandIn::start(answer).await
}

fn sender(base_url: &str) -> NotifySender {
    sender_with(base_url, |_| {})
}

fn sender_with(base_url: &str, change: impl FnOnce(&mut NotifyConfig)) -> NotifySender {
    let mut config = NotifyConfig::new(
        ApiKey::parse(&notify_api_key()).unwrap(),
        SMS_TEMPLATE.into(),
        EMAIL_TEMPLATE.into(),
    );
    config.base_url = base_url.to_owned();
    config.timeout = Duration::from_secs(5);
    change(&mut config);
    NotifySender::new(config).unwrap()
}

fn sms(reference: &str) -> Outgoing {
    Outgoing {
        reference: reference.into(),
        channel: OutChannel::Sms,
        to: "07700900111".into(),
        subject: None,
        body: "Your repair is booked for Tuesday.".into(),
        reply_to: None,
    }
}

fn email() -> Outgoing {
    Outgoing {
        reference: "msg-7".into(),
        channel: OutChannel::Email,
        to: "sam@example.com".into(),
        subject: Some("Your repair".into()),
        body: "Hello Sam,\n\nYour repair is booked.".into(),
        reply_to: None,
    }
}

#[test]
fn api_keys_are_read_from_the_end() {
    let key = ApiKey::parse(&notify_api_key()).unwrap();
    assert_eq!(key.service_id(), SERVICE_ID);
    assert!(
        !format!("{key:?}").contains(SECRET),
        "Debug must hide the secret"
    );
    // Notify's older keys had no name.
    assert!(ApiKey::parse(&format!("{SERVICE_ID}-{SECRET}")).is_ok());
    assert!(ApiKey::parse(&format!("allwedd-gymraeg-ŵ-{SERVICE_ID}-{SECRET}")).is_ok());
    for bad in [
        String::new(),
        "casework-key".into(),
        format!("name-{SERVICE_ID}{SECRET}"),
        format!("name{SERVICE_ID}-{SECRET}"),
        format!("name-{SERVICE_ID}-not-a-uuid-at-all-but-36-characters!"),
        format!("name-{SECRET}"),
        format!("ŵ{}", &SECRET[1..]),
        format!("name-{SERVICE_ID}-{}ŵ", &SECRET[..35]),
    ] {
        assert!(ApiKey::parse(&bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn a_budget_of_no_requests_is_a_configuration_error() {
    let mut config = NotifyConfig::new(
        ApiKey::parse(&notify_api_key()).unwrap(),
        SMS_TEMPLATE.into(),
        EMAIL_TEMPLATE.into(),
    );
    config.requests_per_minute = 0;
    assert!(NotifySender::new(config).is_err());
}

#[tokio::test]
async fn sends_an_sms_with_a_valid_token_and_notify_shaped_body() {
    let notify = start(NotifyAnswer::Accept).await;
    let sent = sender(&notify.url).send(&sms("msg-42")).await.unwrap();
    let received = notify.received();
    let Received { kind, body, id } = &received[0];
    assert_eq!(&sent.provider_id, id);
    assert!(id.is_some());
    assert_eq!(kind, "sms");
    assert_eq!(body["phone_number"], "07700900111");
    assert_eq!(body["template_id"], SMS_TEMPLATE);
    assert_eq!(body["reference"], "msg-42");
    assert_eq!(
        body["personalisation"],
        json!({ "body": "Your repair is booked for Tuesday." })
    );
}

#[tokio::test]
async fn sends_an_email_with_subject_body_and_reply_to_id() {
    let notify = start(NotifyAnswer::Accept).await;
    let sender = sender_with(&notify.url, |c| {
        c.email_reply_to_id = Some("8e222534-7f05-4972-86e3-17c5d9f894e2".into())
    });
    let sent = sender.send(&email()).await.unwrap();
    assert!(sent.provider_id.is_some());
    let received = notify.received();
    let Received { kind, body, .. } = &received[0];
    assert_eq!(kind, "email");
    assert_eq!(body["email_address"], "sam@example.com");
    assert_eq!(body["template_id"], EMAIL_TEMPLATE);
    assert_eq!(body["reference"], "msg-7");
    assert_eq!(
        body["email_reply_to_id"],
        "8e222534-7f05-4972-86e3-17c5d9f894e2"
    );
    assert_eq!(
        body["personalisation"],
        json!({ "subject": "Your repair", "body": "Hello Sam,\n\nYour repair is booked." })
    );
}

#[tokio::test]
async fn an_email_without_a_subject_is_refused_before_sending() {
    let notify = start(NotifyAnswer::Accept).await;
    let mut message = email();
    message.subject = None;
    let error = sender(&notify.url).send(&message).await.unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
    assert!(notify.received().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_server_and_permanent() {
    let url = start(NotifyAnswer::Accept).await.url;
    let other_secret = "0b9ad1f6-3c58-4a0e-9d61-1e8b5c7f2a44";
    let mut config = NotifyConfig::new(
        ApiKey::parse(&format!("key-{SERVICE_ID}-{other_secret}")).unwrap(),
        SMS_TEMPLATE.into(),
        EMAIL_TEMPLATE.into(),
    );
    config.base_url = url;
    let error = NotifySender::new(config)
        .unwrap()
        .send(&sms("msg-1"))
        .await
        .unwrap_err();
    match error {
        SendError::Permanent(text) => {
            assert!(text.contains("403") && text.contains("AuthError"), "{text}")
        }
        other => panic!("expected permanent, got {other:?}"),
    }
}

async fn failure(status: StatusCode, error: &'static str, message: &'static str) -> SendError {
    let url = start(NotifyAnswer::Fail(status, error, message)).await.url;
    sender(&url).send(&sms("msg-9")).await.unwrap_err()
}

#[tokio::test]
async fn bad_request_is_permanent_and_carries_notifys_message() {
    let error = failure(
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        "Can't send to this recipient using a team-only API key",
    )
    .await;
    match error {
        SendError::Permanent(text) => assert!(
            text.contains("BadRequestError: Can't send to this recipient"),
            "{text}"
        ),
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn forbidden_is_permanent() {
    let error = failure(
        StatusCode::FORBIDDEN,
        "AuthError",
        "Invalid token: API key not found",
    )
    .await;
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");
}

#[tokio::test]
async fn too_many_requests_is_temporary() {
    let error = failure(
        StatusCode::TOO_MANY_REQUESTS,
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    )
    .await;
    assert!(error.is_temporary(), "{error:?}");
}

#[tokio::test]
async fn server_error_is_temporary() {
    let error = failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Exception",
        "Internal server error",
    )
    .await;
    assert!(error.is_temporary(), "{error:?}");
}

#[tokio::test]
async fn connection_refused_is_temporary() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = sender(&format!("http://{address}"))
        .send(&sms("msg-3"))
        .await
        .unwrap_err();
    assert!(error.is_temporary(), "{error:?}");
}

#[tokio::test]
async fn the_sender_holds_back_requests_over_its_budget() {
    let notify = start(NotifyAnswer::Accept).await;
    let sender = sender_with(&notify.url, |c| c.requests_per_minute = 3);
    for i in 0..3 {
        sender.send(&sms(&format!("msg-{i}"))).await.unwrap();
    }
    // The fourth must wait for the window to pass (a minute): it is still waiting, unsent,
    // however long this short wait happens to take.
    let fourth = tokio::time::timeout(Duration::from_millis(300), sender.send(&sms("msg-3"))).await;
    assert!(fourth.is_err(), "the fourth request was not held back");
    assert_eq!(notify.received().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_limiter_never_exceeds_its_budget_in_any_window() {
    let limit = 5;
    let window = Duration::from_secs(60);
    let limiter = Arc::new(RateLimiter::new(limit, window));
    let times = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..23)
        .map(|_| {
            let limiter = limiter.clone();
            let times = times.clone();
            tokio::spawn(async move {
                limiter.acquire().await;
                times.lock().unwrap().push(Instant::now());
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut times = times.lock().unwrap().clone();
    times.sort();
    assert_eq!(times.len(), 23);
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < window)
            .count();
        assert!(
            in_window <= limit,
            "{in_window} acquisitions within one window"
        );
    }
    // And it does let them through, a budget per window: 23 at 5 a window take 4 more windows.
    let span = times[22].duration_since(times[0]);
    assert!(span >= window * 4 && span < window * 5, "{span:?}");
}

#[tokio::test]
async fn finds_a_notification_sent_earlier_by_its_reference() {
    let notify = start(NotifyAnswer::Accept).await;
    let sender = sender(&notify.url);
    assert_eq!(sender.find_sent(&sms("msg-1")).await.unwrap(), None);
    let sent = sender.send(&sms("msg-1")).await.unwrap();
    sender.send(&sms("msg-2")).await.unwrap();
    let found = sender.find_sent(&sms("msg-1")).await.unwrap();
    assert_eq!(found, Some(sent));
    assert_eq!(notify.lookups(), 2);
}

#[tokio::test]
async fn a_look_up_that_fails_is_never_a_reason_to_send() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = sender(&format!("http://{address}"))
        .find_sent(&sms("msg-1"))
        .await
        .unwrap_err();
    assert!(error.is_temporary(), "{error:?}");
}
