//! Two real `casework serve` processes on one PostgreSQL database, as replicas behind a load
//! balancer: shared sessions, jobs claimed once, stopping by SIGTERM (unready first, then
//! draining) and by SIGKILL under load, and the database going away and coming back (through a
//! proxy that the test cuts, so that the machine's PostgreSQL keeps serving other tests).

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use casework_channels::testing::{NotifyAnswer, NotifyStandIn, SMS_TEMPLATE, notify_api_key};
use casework_store::testing::TestDatabase;
use support::{
    Link, Process, Proxy, casework, client, create_case, messages, missed_bin, postgres_address,
    send_message, text, wait_until,
};

const PASSWORD: &str = "correct horse battery staple";

fn add_admin(database: &TestDatabase) {
    let output = casework(&database.url)
        .args([
            "user",
            "add",
            "--email",
            "admin@council.example",
            "--name",
            "Ada",
        ])
        .args(["--role", "admin", "--password", PASSWORD])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_sessions_and_claim_each_job_once() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    add_admin(&database);
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    let replica = || {
        let mut command = casework(&database.url);
        command
            .env("CASEWORK_SMS_SENDER", "notify")
            .env("CASEWORK_NOTIFY_API_KEY", notify_api_key())
            .env("CASEWORK_NOTIFY_BASE_URL", &notify.url)
            .env("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", SMS_TEMPLATE);
        Process::serve(command)
    };
    let (a, b) = (replica(), replica());
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let signed_in = browser
        .post(format!("{}/staff/sign-in", a.url))
        .form(&[("email", "admin@council.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let on_b = browser
        .get(format!("{}/staff", b.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), 200, "the session from A works on B");
    assert!(on_b.text().await.unwrap().contains("Ada"));
    let signed_out = browser
        .get(format!("{}/staff", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_out.status(),
        303,
        "without the cookie, B asks to sign in"
    );

    // Messages queued on both replicas are sent by both replicas' workers, each once.
    let client = client();
    let mut ids = Vec::new();
    let mut references = Vec::new();
    for replica in [&a, &b, &a, &b] {
        let reference = create_case(&client, &replica.url, &key).await;
        for _ in 0..10 {
            ids.push(send_message(&client, &replica.url, &key, &reference, "sms").await);
        }
        references.push(reference);
    }
    wait_until(
        "every message at Notify",
        Duration::from_secs(60),
        async || notify.accepted_by_reference().len() == ids.len(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let accepted = notify.accepted_by_reference();
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
    for reference in &references {
        for message in messages(&client, &b.url, &key, reference).await {
            assert_eq!(message["status"], "sent");
        }
    }
}

/// What became of each request a load sent.
#[derive(Default)]
struct Outcomes {
    /// The references of the cases created (201).
    created: Vec<String>,
    /// Any other answer, or an error after the request was sent.
    failed: Vec<String>,
    /// Connections refused: the server had stopped listening.
    refused: usize,
    /// Requests sent on an idle kept-alive connection just as the stopping server closed it:
    /// the server never read them, so they were not accepted (checked against the database).
    closed: usize,
}

/// Whether the request failed because the server reset its connection before answering.
fn reset_before_answer(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionReset
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// `clients` clients creating cases at `url` until `stop` is set, each request on a new
/// connection, as from a load balancer.
fn load(
    url: &str,
    key: &str,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> (Arc<Mutex<Outcomes>>, Vec<tokio::task::JoinHandle<()>>) {
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let tasks = (0..clients)
        .map(|_| {
            let (client, outcomes, stop) = (client.clone(), outcomes.clone(), stop.clone());
            let (url, key) = (format!("{url}/api/v1/cases"), key.to_owned());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let answer = client
                        .post(&url)
                        .bearer_auth(&key)
                        .json(&missed_bin())
                        .send()
                        .await;
                    let outcome = match answer {
                        Ok(response) if response.status() == 201 => {
                            match response.json::<serde_json::Value>().await {
                                Ok(body) => Ok(body["reference"].as_str().unwrap().to_owned()),
                                Err(error) => Err(format!("a 201 cut short: {error:?}")),
                            }
                        }
                        Ok(response) => Err(format!("answered {}", response.status())),
                        Err(error) if error.is_connect() => {
                            outcomes.lock().unwrap().refused += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                        Err(error) if reset_before_answer(&error) => {
                            outcomes.lock().unwrap().closed += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                        Err(error) => Err(format!("{error:?}")),
                    };
                    let mut outcomes = outcomes.lock().unwrap();
                    match outcome {
                        Ok(reference) => outcomes.created.push(reference),
                        Err(failure) => outcomes.failed.push(failure),
                    }
                }
            })
        })
        .collect();
    (outcomes, tasks)
}

/// Every case in `references` can be read through `url`.
async fn assert_all_stored(url: &str, key: &str, references: &[String]) {
    let client = client();
    for reference in references {
        let found = client
            .get(format!("{url}/api/v1/cases/{reference}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            found.status(),
            200,
            "{reference} was acknowledged but is missing"
        );
    }
}

/// Without a drain delay (as on Ctrl-C), the server stops taking connections at the signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_requests_in_flight_and_exits_cleanly() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_SHUTDOWN_GRACE", "10")
        .env("CASEWORK_SHUTDOWN_DELAY", "0");
    let mut replica = Process::serve(command);
    let stop = Arc::new(AtomicBool::new(false));
    let (outcomes, tasks) = load(&replica.url, &key, 8, &stop);
    wait_until("some cases created", Duration::from_secs(20), async || {
        outcomes.lock().unwrap().created.len() >= 20
    })
    .await;
    let signalled = Instant::now();
    replica.signal("TERM");
    let status = replica
        .wait_for_exit(Duration::from_secs(10))
        .expect("stopped within the grace period");
    let took = signalled.elapsed();
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    assert!(status.success(), "exit status {status}");
    let (created, closed) = {
        let outcomes = outcomes.lock().unwrap();
        assert!(outcomes.failed.is_empty(), "failed: {:?}", outcomes.failed);
        (outcomes.created.clone(), outcomes.closed)
    };
    eprintln!(
        "stopped {took:?} after SIGTERM; {} cases created; {closed} requests met a closing \
         connection",
        created.len()
    );
    // Nothing was stored that was not acknowledged: the connections closed under a request
    // were closed before the server read it.
    let stored = database
        .store()
        .await
        .count_cases(&Default::default())
        .await
        .unwrap();
    assert_eq!(usize::try_from(stored).unwrap(), created.len());
    let mut command = casework(&database.url);
    command.env("CASEWORK_NO_WORKER", "true");
    let other = Process::serve(command);
    assert_all_stored(&other.url, &key, &created).await;
}

/// The drain delay of these tests, in seconds: long enough for the checks made during it.
const DELAY: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_unready_first_and_serves_on_through_the_drain_delay() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    let notify = NotifyStandIn::start(NotifyAnswer::Accept).await;
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_SHUTDOWN_DELAY", DELAY.to_string())
        .env("CASEWORK_SHUTDOWN_GRACE", "10")
        .env("CASEWORK_SMS_SENDER", "notify")
        .env("CASEWORK_NOTIFY_API_KEY", notify_api_key())
        .env("CASEWORK_NOTIFY_BASE_URL", &notify.url)
        .env("CASEWORK_NOTIFY_SMS_TEMPLATE_ID", SMS_TEMPLATE);
    let mut replica = Process::serve(command);
    let client = client();
    let readyz = format!("{}/readyz", replica.url);
    let ready = client.get(&readyz).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(ready.headers().get("connection").is_none(), "kept alive");
    let reference = create_case(&client, &replica.url, &key).await;
    // The worker runs: a message queued before the signal is sent.
    let before = send_message(&client, &replica.url, &key, &reference, "sms").await;
    wait_until(
        "the first message at Notify",
        Duration::from_secs(20),
        async || notify.accepted_by_reference().contains_key(&before),
    )
    .await;

    let signalled = Instant::now();
    replica.signal("TERM");
    wait_until("unready", Duration::from_secs(2), async || {
        client.get(&readyz).send().await.unwrap().status() == 503
    })
    .await;
    let unready = client.get(&readyz).send().await.unwrap();
    assert_eq!(unready.headers()["connection"], "close");
    assert_eq!(unready.text().await.unwrap(), "not ready: stopping");
    let listed = client
        .get(format!("{}/api/v1/cases", replica.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "still serving");
    assert_eq!(listed.headers()["connection"], "close");
    let created = client
        .post(format!("{}/api/v1/cases", replica.url))
        .bearer_auth(&key)
        .json(&missed_bin())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "still taking cases");
    assert_eq!(created.headers()["connection"], "close");
    let alive = client
        .get(format!("{}/healthz", replica.url))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200, "unready, not dead: no restart");
    // The worker took no new job: this message waits for another replica's worker.
    let during = send_message(&client, &replica.url, &key, &reference, "sms").await;
    let checked = signalled.elapsed();
    assert!(
        checked < Duration::from_secs(DELAY),
        "the checks took {checked:?}, past the drain delay"
    );

    let status = replica
        .wait_for_exit(Duration::from_secs(10))
        .expect("stopped within the grace period");
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(
        took >= Duration::from_secs(DELAY),
        "stopped {took:?} after SIGTERM, before the end of the drain delay"
    );
    assert!(
        !notify.accepted_by_reference().contains_key(&during),
        "the stopping worker sent a message queued during the drain delay"
    );
    let mut command = casework(&database.url);
    command.env("CASEWORK_NO_WORKER", "true");
    let other = Process::serve(command);
    let waiting: Vec<_> = messages(&client, &other.url, &key, &reference)
        .await
        .into_iter()
        .filter(|message| message["id"] == during.as_str())
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["status"], "queued");
}

/// Ctrl-C comes from a person at a terminal, not a platform with a load balancer to wait for.
#[test]
fn ctrl_c_skips_the_drain_delay() {
    let database = TestDatabase::sqlite();
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_SHUTDOWN_DELAY", "20")
        .env("CASEWORK_SHUTDOWN_GRACE", "30");
    let mut replica = Process::serve(command);
    let signalled = Instant::now();
    replica.signal("INT");
    let status = replica
        .wait_for_exit(Duration::from_secs(10))
        .expect("stopped without waiting out the delay");
    assert!(status.success(), "exit status {status}");
    eprintln!("stopped {:?} after Ctrl-C", signalled.elapsed());
}

/// What one request of the load behind the balancer met.
struct Answer {
    replica: String,
    /// Answered before the signal was sent: unaffected by it.
    before_signal: bool,
    closed_by_server: bool,
}

/// Clients on kept-alive connections, behind a load balancer that sends to A until A's
/// `/readyz` fails and to B after: SIGTERM on A costs no request, though A closes every one of
/// those connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_connections_move_to_another_replica_without_a_reset() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    let mut command = casework(&database.url);
    command
        .env("CASEWORK_SHUTDOWN_DELAY", DELAY.to_string())
        .env("CASEWORK_SHUTDOWN_GRACE", "10");
    let mut a = Process::serve(command);
    let b = Process::serve(casework(&database.url));
    let target = Arc::new(Mutex::new(a.url.clone()));
    let signalled = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));

    // The balancer's health check: a new connection every 500 ms, as probes make.
    let probe = {
        let (target, b_url) = (target.clone(), b.url.clone());
        let readyz = format!("{}/readyz", a.url);
        let prober = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        tokio::spawn(async move {
            loop {
                let ready = prober
                    .get(&readyz)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                if !ready {
                    *target.lock().unwrap() = b_url;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    // One client whose pool keeps connections alive, shared by the load's tasks.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let created = Arc::new(Mutex::new(Vec::<String>::new()));
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let (client, key, target) = (client.clone(), key.clone(), target.clone());
            let (signalled, stop) = (signalled.clone(), stop.clone());
            let (answers, failures, created) = (answers.clone(), failures.clone(), created.clone());
            tokio::spawn(async move {
                let mut sent = n;
                while !stop.load(Ordering::SeqCst) {
                    sent += 1;
                    let replica = target.lock().unwrap().clone();
                    let request = if sent % 2 == 0 {
                        client.get(format!("{replica}/api/v1/cases?limit=5"))
                    } else {
                        client
                            .post(format!("{replica}/api/v1/cases"))
                            .json(&missed_bin())
                    };
                    let response = match request.bearer_auth(&key).send().await {
                        Ok(response) => response,
                        Err(error) => {
                            failures.lock().unwrap().push(format!("{error:?}"));
                            continue;
                        }
                    };
                    let status = response.status();
                    let closed_by_server = response
                        .headers()
                        .get("connection")
                        .is_some_and(|v| v == "close");
                    match response.json::<serde_json::Value>().await {
                        Ok(body) if status == 201 => created
                            .lock()
                            .unwrap()
                            .push(body["reference"].as_str().unwrap().to_owned()),
                        Ok(_) if status == 200 => {}
                        Ok(body) => {
                            failures.lock().unwrap().push(format!("{status}: {body}"));
                            continue;
                        }
                        Err(error) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("{status}: {error:?}"));
                            continue;
                        }
                    }
                    answers.lock().unwrap().push(Answer {
                        replica,
                        before_signal: !signalled.load(Ordering::SeqCst),
                        closed_by_server,
                    });
                }
            })
        })
        .collect();
    let answered_by = |url: &str| {
        answers
            .lock()
            .unwrap()
            .iter()
            .filter(|answer| answer.replica == url)
            .count()
    };
    wait_until("A answering", Duration::from_secs(20), async || {
        answered_by(&a.url) >= 30
    })
    .await;

    signalled.store(true, Ordering::SeqCst);
    let signalled_at = Instant::now();
    a.signal("TERM");
    let status = a
        .wait_for_exit(Duration::from_secs(10))
        .expect("A stopped within the grace period");
    let took = signalled_at.elapsed();
    let on_b = answered_by(&b.url);
    wait_until("B answering", Duration::from_secs(20), async || {
        answered_by(&b.url) >= on_b + 30
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    probe.await.unwrap();

    assert!(status.success(), "A's exit status {status}");
    assert!(
        took >= Duration::from_secs(DELAY),
        "A stopped after {took:?}"
    );
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "requests failed: {failures:#?}");
    let (before, closed_by_a, from_b) = {
        let answers = answers.lock().unwrap();
        let before: Vec<&Answer> = answers.iter().filter(|a| a.before_signal).collect();
        assert!(
            before.iter().all(|answer| !answer.closed_by_server),
            "connections were kept alive before the signal"
        );
        let closed_by_a = answers
            .iter()
            .filter(|answer| answer.replica == a.url && answer.closed_by_server)
            .count();
        let from_b = answers
            .iter()
            .filter(|answer| answer.replica == b.url)
            .count();
        (before.len(), closed_by_a, from_b)
    };
    eprintln!(
        "A stopped {took:?} after SIGTERM; {before} answers before it, {closed_by_a} from A \
         closing their connections, {from_b} from B"
    );
    assert!(
        closed_by_a > 0,
        "A served on, closing connections, after SIGTERM"
    );
    // Acknowledged cases, and only those, are stored.
    let created = created.lock().unwrap().len();
    let stored = database
        .store()
        .await
        .count_cases(&Default::default())
        .await
        .unwrap();
    assert_eq!(usize::try_from(stored).unwrap(), created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_request() {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    let mut a = Process::serve(casework(&database.url));
    let b = Process::serve(casework(&database.url));
    let stop = Arc::new(AtomicBool::new(false));
    let (on_a, tasks_a) = load(&a.url, &key, 6, &stop);
    let (on_b, tasks_b) = load(&b.url, &key, 2, &stop);
    wait_until(
        "some cases created on A",
        Duration::from_secs(20),
        async || on_a.lock().unwrap().created.len() >= 30,
    )
    .await;
    a.signal("KILL");
    a.wait_for_exit(Duration::from_secs(5)).expect("killed");
    // B carries on while A is gone.
    let before = on_b.lock().unwrap().created.len();
    wait_until(
        "B still creating cases",
        Duration::from_secs(20),
        async || on_b.lock().unwrap().created.len() >= before + 10,
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks_a.into_iter().chain(tasks_b) {
        task.await.unwrap();
    }
    let created: Vec<String> = {
        let on_b = on_b.lock().unwrap();
        assert!(on_b.failed.is_empty(), "B failed: {:?}", on_b.failed);
        on_a.lock()
            .unwrap()
            .created
            .iter()
            .chain(&on_b.created)
            .cloned()
            .collect()
    };
    let distinct: BTreeSet<&String> = created.iter().collect();
    assert_eq!(distinct.len(), created.len(), "a reference given twice");
    assert_all_stored(&b.url, &key, &created).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_database_answers_503_at_once_and_recovers_by_itself() {
    lose_the_database(Link::Refused, Duration::from_secs(1)).await;
}

/// A partition, where nothing answers: the pool's 5-second acquire timeout bounds the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_database_answers_503_within_seconds_and_recovers_by_itself() {
    lose_the_database(Link::Stalled, Duration::from_secs(7)).await;
}

async fn lose_the_database(how: Link, limit: Duration) {
    let database = TestDatabase::postgres().await;
    let key = support::api_key(&database.url);
    add_admin(&database);
    let proxy = Proxy::start(postgres_address(&database.url)).await;
    let replica = Process::serve(casework(&proxy.through(&database.url)));
    let client = client();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", replica.url))
            .bearer_auth(&key)
    };
    assert_eq!(get("/readyz").send().await.unwrap().status(), 200);
    assert_eq!(get("/api/v1/cases").send().await.unwrap().status(), 200);

    proxy.set(how);
    for (method, path) in [
        ("GET", "/api/v1/cases"),
        ("POST", "/api/v1/cases"),
        ("GET", "/staff/sign-in"),
        ("GET", "/readyz"),
    ] {
        let started = Instant::now();
        let request = match method {
            "POST" => client
                .post(format!("{}{path}", replica.url))
                .bearer_auth(&key)
                .json(&missed_bin()),
            _ => get(path),
        };
        let response = request.send().await.unwrap();
        let took = started.elapsed();
        let status = response.status();
        let body = response.text().await.unwrap();
        eprintln!("{how:?}: {method} {path} without the database: {status} in {took:?}");
        if path == "/staff/sign-in" {
            // The sign-in form needs no database until it is sent.
            assert!(status == 200 || status == 503, "{status}: {body}");
        } else {
            assert_eq!(status, 503, "{method} {path}: {body}");
        }
        assert!(took < limit, "{method} {path} took {took:?}");
        if path == "/readyz" {
            assert!(body.contains("the database does not answer"), "{body}");
        }
    }
    let signed_in = client
        .post(format!("{}/staff/sign-in", replica.url))
        .form(&[("email", "admin@council.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 503, "signing in without the database");

    proxy.set(Link::Up);
    let restored = Instant::now();
    wait_until("ready again", Duration::from_secs(30), async || {
        get("/readyz").send().await.unwrap().status() == 200
    })
    .await;
    eprintln!(
        "ready {:?} after the database came back",
        restored.elapsed()
    );
    let reference = create_case(&client, &replica.url, &key).await;
    assert_eq!(
        get(&format!("/api/v1/cases/{reference}"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
