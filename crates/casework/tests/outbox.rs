//! No message sent twice, with real `casework worker` processes on one PostgreSQL database and
//! the Notify stand-in counting what it accepted for each message's reference: two workers at
//! once, and a worker killed in the middle of sending.

mod support;

use std::process::Command;
use std::time::Duration;

use casework_channels::testing::{NotifyAnswer, NotifyStandIn, SMS_TEMPLATE, notify_api_key};
use casework_store::testing::TestDatabase;
use support::{Process, casework, client, create_case, messages, send_message, wait_until};

/// Queues `per_case` text messages on each of `cases` new cases through a server that runs no
/// worker; returns the cases and the messages' ids.
async fn queue_messages(
    database: &TestDatabase,
    key: &str,
    cases: usize,
    per_case: usize,
) -> (Vec<String>, Vec<String>) {
    let mut command = casework(&database.url);
    command.env("CASEWORK_NO_WORKER", "true");
    let server = Process::serve(command);
    let client = client();
    let (mut references, mut ids) = (Vec::new(), Vec::new());
    for _ in 0..cases {
        let reference = create_case(&client, &server.url, key).await;
        for _ in 0..per_case {
            ids.push(send_message(&client, &server.url, key, &reference, "sms").await);
        }
        references.push(reference);
    }
    (references, ids)
}

/// A worker sending text messages through the stand-in.
fn worker(database: &TestDatabase, notify: &NotifyStandIn, lease: &str) -> Command {
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_SMS_SENDER", "notify")
        .env("CASEWORK_NOTIFY_API_KEY", notify_api_key())
        .env("CASEWORK_NOTIFY_BASE_URL", &notify.url)
        .env("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", SMS_TEMPLATE)
        .env("CASEWORK_JOB_LEASE", lease);
    command
}

/// Every message was accepted by the stand-in exactly once, and is recorded as sent.
async fn assert_each_sent_once(
    database: &TestDatabase,
    key: &str,
    notify: &NotifyStandIn,
    references: &[String],
    ids: &[String],
) {
    let accepted = notify.accepted_by_reference();
    let twice: Vec<_> = accepted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(accepted.keys().cloned().collect::<Vec<_>>(), expected);
    let mut command = casework(&database.url);
    command.env("CASEWORK_NO_WORKER", "true");
    let server = Process::serve(command);
    let client = client();
    for reference in references {
        for message in messages(&client, &server.url, key, reference).await {
            assert_eq!(message["status"], "sent", "{message}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_send_each_message_once() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    let (references, ids) = queue_messages(&database, &key, 6, 25).await;
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    // A little time at the provider, so that the two workers' batches overlap.
    notify.set_delay(Duration::from_millis(5));
    let first = Process::worker(worker(&database, &notify, "300"));
    let second = Process::worker(worker(&database, &notify, "300"));
    wait_until(
        "every message at Notify",
        Duration::from_secs(60),
        async || notify.accepted_by_reference().len() == ids.len(),
    )
    .await;
    // Time for a second copy to arrive, if one were on its way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop((first, second));
    assert_each_sent_once(&database, &key, &notify, &references, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_send_is_taken_over_and_nothing_is_sent_twice() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    let (references, ids) = queue_messages(&database, &key, 2, 20).await;
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    // Notify takes each message at once and answers a while later: killed in between, the
    // worker never learns that its message went.
    notify.set_delay(Duration::from_millis(400));
    let mut first = Process::worker(worker(&database, &notify, "2"));
    wait_until(
        "a few messages at Notify",
        Duration::from_secs(30),
        async || notify.received().len() >= 3,
    )
    .await;
    first.signal("KILL");
    first.wait_for_exit(Duration::from_secs(5)).expect("killed");
    let taken = notify.received().len();
    assert!(
        taken < ids.len(),
        "the worker finished before it was killed"
    );
    notify.set_delay(Duration::ZERO);
    let _second = Process::worker(worker(&database, &notify, "2"));
    wait_until(
        "every message at Notify",
        Duration::from_secs(60),
        async || notify.accepted_by_reference().len() == ids.len(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_sent_once(&database, &key, &notify, &references, &ids).await;
    // The message Notify had taken when the worker died was looked up, not sent again.
    assert!(notify.lookups() >= 1, "no look-up before the retry");
    drop(_second);
}
