//! What the tests of real `casework` processes share: starting them against a database, the
//! API key to drive them with, and stopping them by signal.

#![allow(dead_code)] // Each test file uses its own part of this module.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary, in the repository (for its `services`), against `database_url`.
pub fn casework(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_casework"));
    command
        .current_dir(repository())
        .env("CASEWORK_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn");
    command
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A new API key in the database, as an operator makes one.
pub fn api_key(database_url: &str) -> String {
    let output = casework(database_url)
        .args(["apikey", "create", "--name", "tests", "--role", "admin"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("cw_"))
        .expect("the key is printed")
        .to_owned()
}

/// A running `casework` process, killed when the test ends however it ends.
pub struct Process {
    pub child: Child,
    /// Where `serve` answers; empty for a worker.
    pub url: String,
}

impl Process {
    /// `casework serve` on a free port, once it says it is serving.
    pub fn serve(mut command: Command) -> Process {
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = stdout.lines();
        let url = lines.by_ref().map_while(Result::ok).find_map(|line| {
            line.split_once(" services at ")
                .map(|(_, url)| url.trim().to_owned())
        });
        let Some(url) = url else {
            let status = child.wait().unwrap();
            panic!("casework serve stopped before serving: {status}");
        };
        // Keep reading, so that the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Process { child, url }
    }

    /// `casework worker`.
    pub fn worker(mut command: Command) -> Process {
        let child = command.arg("worker").stdout(Stdio::null()).spawn().unwrap();
        Process {
            child,
            url: String::new(),
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// Waits up to `limit` for the process to exit, and says how it did.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `done` says so, or fails the test after `limit`, saying what it waited for.
pub async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited {limit:?} for {what}");
}

/// A valid missed-bin report, from a resident with an email address and a mobile number.
pub fn missed_bin() -> Value {
    json!({
        "service": "missed-bin",
        "contact": {
            "name": "Amira Khan",
            "email": "amira.khan@example.com",
            "phone": "07700 900123",
            "preferred_channel": "sms"
        },
        "answers": {
            "address": "12 Mill Lane\nNewtown\nNT1 3AB",
            "bin_type": "recycling",
            "collection_date": "2026-12-01",
            "bin_out_by_7am": true
        },
        "description": "Recycling missed again, the whole street."
    })
}

/// An HTTP client for tests: short timeouts, so that a hang fails the test rather than
/// stalling it.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Reports a case through the API and returns its reference.
pub async fn create_case(client: &reqwest::Client, url: &str, key: &str) -> String {
    let response = client
        .post(format!("{url}/api/v1/cases"))
        .bearer_auth(key)
        .json(&missed_bin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["reference"].as_str().unwrap().to_owned()
}

/// Sends a message to the case's resident through the API; returns its id.
pub async fn send_message(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    reference: &str,
    channel: &str,
) -> String {
    let response = client
        .post(format!("{url}/api/v1/cases/{reference}/messages"))
        .bearer_auth(key)
        .json(&json!({ "channel": channel, "subject": "Your bin", "body": "We will collect it tomorrow." }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// The case's messages as the API shows them.
pub async fn messages(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    reference: &str,
) -> Vec<Value> {
    let body: Value = client
        .get(format!("{url}/api/v1/cases/{reference}/messages"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["messages"].as_array().unwrap().clone()
}

/// A TCP proxy between a server and PostgreSQL, which the test can cut (refusing or stalling
/// connections) and restore: the database "goes away" for this server only, while the
/// machine's PostgreSQL keeps serving everyone else.
pub struct Proxy {
    pub address: std::net::SocketAddr,
    state: std::sync::Arc<std::sync::Mutex<Link>>,
    cuts: tokio::sync::watch::Sender<u64>,
}

/// How the proxy treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Up,
    /// Connections are closed and refused, as when the database's host is down.
    Refused,
    /// Connections stay open but carry nothing, as in a network partition.
    Stalled,
}

/// How long a stalled connection is held before the proxy lets go of it.
const STALL: Duration = Duration::from_secs(120);

impl Proxy {
    /// Forwards a random loopback port to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Proxy {
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(Link::Up));
        let (cuts, _) = tokio::sync::watch::channel(0u64);
        let (accepting_state, accepting_cuts) = (state.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let link = *accepting_state.lock().unwrap();
                match link {
                    Link::Refused => continue,
                    Link::Stalled => {
                        tokio::spawn(async move {
                            tokio::time::sleep(STALL).await;
                            drop(client);
                        });
                        continue;
                    }
                    Link::Up => {}
                }
                let upstream = upstream.clone();
                let mut cut = accepting_cuts.subscribe();
                let state = accepting_state.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {
                            let link = *state.lock().unwrap();
                            if link == Link::Stalled {
                                tokio::time::sleep(STALL).await;
                            }
                        }
                    }
                });
            }
        });
        Proxy {
            address,
            state,
            cuts,
        }
    }

    /// Changes how the proxy treats connections, the open ones included.
    pub fn set(&self, link: Link) {
        *self.state.lock().unwrap() = link;
        if link != Link::Up {
            self.cuts.send_modify(|n| *n += 1);
        }
    }

    /// `url` (a PostgreSQL URL) through this proxy.
    pub fn through(&self, url: &str) -> String {
        let (scheme, user, _, path) = split_postgres_url(url);
        format!("{scheme}://{user}{}{path}", self.address)
    }
}

/// The `host:port` a PostgreSQL URL names.
pub fn postgres_address(url: &str) -> String {
    let (_, _, host, _) = split_postgres_url(url);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// (scheme, `user@` or nothing, host and port, path and query).
fn split_postgres_url(url: &str) -> (&str, String, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) => (scheme, format!("{user}@"), host, path),
        None => (scheme, String::new(), authority, path),
    }
}
