//! `casework bench mixed`: staff pages, API reads and writes, and residents' replies arriving
//! through the inbound hooks, at once, against one replica or several, as a council's day mixes
//! them: throughput, latency by kind of request, errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use casework_app::App;
use casework_app::demo::DemoCases;
use casework_domain::service::Role;
use casework_web::{HookTokens, WebConfig};
use clap::Args;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::format_description::well_known::{Rfc2822, Rfc3339};
use tokio::sync::Mutex;

use super::{body, ms, new_histogram};
use crate::config::Config;
use crate::serve::new_hook_token;

#[derive(Debug, Args)]
pub struct Mixed {
    /// A running Casework replica, such as http://127.0.0.1:8080; give it once for each
    /// replica (clients are spread over them, as by a load balancer). By default one is
    /// started here. The replicas must use the configured database, where the bench makes its
    /// API key and signs the demo staff in.
    #[arg(long = "url")]
    urls: Vec<String>,
    /// Clients sending at once.
    #[arg(long, default_value_t = 16)]
    clients: u32,
    /// How long to send for.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// The bearer token the `--url` replicas take on GOV.UK Notify's callbacks (their
    /// CASEWORK_NOTIFY_CALLBACK_TOKEN), for the residents' texts. A replica started here is
    /// given this one, or a new one.
    #[arg(long, env = "CASEWORK_NOTIFY_CALLBACK_TOKEN", hide_env_values = true)]
    notify_callback_token: Option<String>,
    /// The bearer token the `--url` replicas take on inbound email (their
    /// CASEWORK_INBOUND_EMAIL_TOKEN), for the residents' emails. A replica started here is
    /// given this one, or a new one.
    #[arg(long, env = "CASEWORK_INBOUND_EMAIL_TOKEN", hide_env_values = true)]
    inbound_email_token: Option<String>,
}

/// What each request is, and how often it comes (out of 100).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// The worktray or a case page, as a signed-in agent.
    StaffPage,
    /// A filtered case list or one case, through the API.
    ApiRead,
    /// A new case through the API.
    ApiWrite,
    /// A resident's text, as GOV.UK Notify's received-text callback posts it.
    TextReply,
    /// A resident's email, as the mail gateway posts it.
    EmailReply,
}

const KINDS: [(Kind, &str); 5] = [
    (Kind::StaffPage, "staff page"),
    (Kind::ApiRead, "API read"),
    (Kind::ApiWrite, "API write"),
    (Kind::TextReply, "text reply"),
    (Kind::EmailReply, "email reply"),
];

const MIX: [(Kind, u32); 5] = [
    (Kind::StaffPage, 35),
    (Kind::ApiRead, 40),
    (Kind::ApiWrite, 15),
    (Kind::TextReply, 6),
    (Kind::EmailReply, 4),
];

const STAFF_PAGES: [&str; 4] = [
    "/staff",
    "/staff?view=open",
    "/staff?view=unassigned",
    "/staff?view=open&sort=priority",
];

const API_READS: [&str; 4] = [
    "/api/v1/cases?open=true&team=repairs&sort=due&limit=50",
    "/api/v1/cases?open=true&sort=updated&limit=50",
    "/api/v1/cases?overdue=true&limit=50",
    "/api/v1/cases?q=okafor&limit=50",
];

/// How many residents the bench writes to before it starts, whose replies then find their case.
const RESIDENTS: usize = 50;

/// One reply in this many (each client's fifth, tenth, …) comes from someone no case knows, and
/// waits for staff to file it.
const UNKNOWN_SENDER_ONE_IN: u32 = 5;

const REPLIES: [&str; 4] = [
    "Thanks, Tuesday morning is fine.",
    "Yes the bin is still out by the gate.",
    "I can be in after 2pm, please ring first.",
    "It happened again this week, nobody came.",
];

/// A resident the bench wrote to by text and by email, as staff do from a case.
struct Resident {
    /// Their number as Notify gives it: international, without the `+`.
    number: String,
    email: String,
}

/// What a reply's hook said it did with it.
#[derive(Default)]
struct Filed {
    on_case: AtomicU64,
    waiting: AtomicU64,
}

struct Figures {
    latency: [Histogram<u64>; KINDS.len()],
}

pub async fn run(config: &Config, mixed: Mixed) -> anyhow::Result<()> {
    let app = config.app().await?;
    let key = app.create_api_key("bench mixed", Role::Admin).await?.secret;
    let (urls, tokens) = if mixed.urls.is_empty() {
        let tokens = Tokens {
            notify: mixed.notify_callback_token.unwrap_or_else(new_hook_token),
            email: mixed.inbound_email_token.unwrap_or_else(new_hook_token),
        };
        (vec![start_here(&app, &tokens).await?], tokens)
    } else {
        let (Some(notify), Some(email)) = (mixed.notify_callback_token, mixed.inbound_email_token)
        else {
            bail!(
                "residents' replies are part of the mix: give the hook tokens the replicas were \
                 started with, CASEWORK_NOTIFY_CALLBACK_TOKEN and CASEWORK_INBOUND_EMAIL_TOKEN \
                 (or --notify-callback-token and --inbound-email-token)"
            );
        };
        let urls = mixed
            .urls
            .iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect();
        (urls, Tokens { notify, email })
    };
    let (agent, password) = app
        .prepare_demo_staff()
        .await?
        .into_iter()
        .find(|(member, _)| member.role == Role::Agent)
        .context("the demo staff include an agent")?;
    // One session for every client: sessions live in the database, so it works on every
    // replica, as a member of staff's does behind a load balancer.
    let cookie = sign_in(&urls[0], &agent.email, &password).await?;
    let some_case = app
        .list_cases(
            &crate::operator(),
            &casework_app::store::CaseQuery {
                filter: Default::default(),
                sort: casework_app::store::CaseSort::Updated,
                after: None,
                limit: 1,
            },
        )
        .await?
        .cases
        .into_iter()
        .next()
        .context("the database has cases: seed some first")?;
    let case_page = format!("/staff/cases/{}", some_case.reference);
    let case_api = format!("/api/v1/cases/{}", some_case.reference);
    let mut demo = DemoCases::new(app.services(), app.calendar(), app.now(), 7);
    let bodies: Arc<Vec<serde_json::Value>> =
        Arc::new((0..1024).map(|_| body(&demo.case())).collect());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()?;
    let residents = Arc::new(write_to_residents(&client, &urls[0], &key, &mut demo).await?);
    println!(
        "Wrote to {} residents by text and email; their replies find their case, and one in \
         {UNKNOWN_SENDER_ONE_IN} replies comes from an unknown sender",
        residents.len()
    );
    let tokens = Arc::new(tokens);
    let figures = Arc::new(Mutex::new(Figures {
        latency: std::array::from_fn(|_| new_histogram()),
    }));
    let filed = Arc::new(Filed::default());
    let errors = Arc::new(AtomicU64::new(0));
    let first_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(mixed.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..mixed.clients as usize {
        let url = urls[n % urls.len()].clone();
        let (client, key, cookie, bodies) =
            (client.clone(), key.clone(), cookie.clone(), bodies.clone());
        let (residents, tokens, filed) = (residents.clone(), tokens.clone(), filed.clone());
        let (figures, errors, first_errors) =
            (figures.clone(), errors.clone(), first_errors.clone());
        let (case_page, case_api) = (case_page.clone(), case_api.clone());
        tasks.push(tokio::spawn(async move {
            // Seeded per client: the same run sends the same mix.
            let mut rng = StdRng::seed_from_u64(n as u64);
            let mut sent = n;
            let mut replies = 0;
            let mut unknown_sender = || {
                replies += 1;
                replies % UNKNOWN_SENDER_ONE_IN == 0
            };
            while Instant::now() < deadline {
                let kind = pick(rng.random_range(0..100));
                let request = match kind {
                    Kind::StaffPage => {
                        let pick = rng.random_range(0..=STAFF_PAGES.len());
                        let path = STAFF_PAGES.get(pick).copied().unwrap_or(&case_page);
                        client
                            .get(format!("{url}{path}"))
                            .header(reqwest::header::COOKIE, &cookie)
                    }
                    Kind::ApiRead => {
                        let pick = rng.random_range(0..=API_READS.len());
                        let path = API_READS.get(pick).copied().unwrap_or(&case_api);
                        client.get(format!("{url}{path}")).bearer_auth(&key)
                    }
                    Kind::ApiWrite => {
                        sent += 1;
                        client
                            .post(format!("{url}/api/v1/cases"))
                            .bearer_auth(&key)
                            .json(&bodies[sent % bodies.len()])
                    }
                    Kind::TextReply => client
                        .post(format!("{url}/hooks/notify/received-text"))
                        .bearer_auth(&tokens.notify)
                        .json(&received_text(&mut rng, &residents, unknown_sender())),
                    Kind::EmailReply => client
                        .post(format!("{url}/hooks/email/inbound"))
                        .bearer_auth(&tokens.email)
                        .header(reqwest::header::CONTENT_TYPE, "message/rfc822")
                        .body(inbound_email(&mut rng, &residents, unknown_sender())),
                };
                let began = Instant::now();
                let outcome = match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.map_err(|e| e.to_string())
                    }
                    Ok(response) => Err(format!("{} {}", response.url().path(), response.status())),
                    Err(error) => Err(error.to_string()),
                };
                match outcome {
                    Ok(answer) => {
                        let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                        figures.lock().await.latency[kind as usize].saturating_record(micros);
                        if matches!(kind, Kind::TextReply | Kind::EmailReply) {
                            filed.count(&answer);
                        }
                    }
                    Err(error) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut first = first_errors.lock().await;
                        if first.len() < 5 {
                            first.push(error);
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.context("a client failed")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let figures = figures.lock().await;
    let total: u64 = figures.latency.iter().map(Histogram::len).sum();
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "Mixed load: {} clients for {} s over {} replica(s): {}",
        mixed.clients,
        mixed.seconds,
        urls.len(),
        urls.join(", ")
    );
    println!(
        "{total} requests answered ({:.0} a second), {errors} errors",
        total as f64 / elapsed
    );
    println!(
        "{:<12} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "kind", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for (kind, name) in KINDS {
        let h = &figures.latency[kind as usize];
        println!(
            "{name:<12} {:>8} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            h.len(),
            h.len() as f64 / elapsed,
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.95)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        );
    }
    println!(
        "replies: {} filed on their case, {} waiting for staff to file them",
        filed.on_case.load(Ordering::Relaxed),
        filed.waiting.load(Ordering::Relaxed)
    );
    for error in first_errors.lock().await.iter() {
        println!("error: {error}");
    }
    Ok(())
}

fn pick(roll: u32) -> Kind {
    let mut below = 0;
    for (kind, share) in MIX {
        below += share;
        if roll < below {
            return kind;
        }
    }
    Kind::ApiWrite
}

/// The hooks' bearer tokens, as the replicas know them.
struct Tokens {
    notify: String,
    email: String,
}

/// A server in this process on a free loopback port, against the configured database, with
/// its hooks served.
async fn start_here(app: &App, tokens: &Tokens) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let config = WebConfig {
        hooks: HookTokens {
            notify: Some(tokens.notify.clone()),
            inbound_email: Some(tokens.email.clone()),
        },
        ..WebConfig::default()
    };
    let router = casework_web::router_with(app.clone(), &config)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}

/// Reports new cases for [`RESIDENTS`] demo residents and messages each of them by text and by
/// email, as staff do: a reply then goes to the case the council last wrote to. Their numbers
/// come from the demo data's range, so the reply's number also matches older cases, as a
/// resident's does.
async fn write_to_residents(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    demo: &mut DemoCases<'_>,
) -> anyhow::Result<Vec<Resident>> {
    let mut residents = Vec::with_capacity(RESIDENTS);
    for _ in 0..RESIDENTS {
        let case = demo.case();
        let (Some(phone), Some(email)) = (case.contact.phone.clone(), case.contact.email.clone())
        else {
            bail!("a demo resident has no phone number or no email address");
        };
        let number = phone
            .strip_prefix('0')
            .map(|rest| format!("44{rest}"))
            .context("demo phone numbers are UK numbers")?;
        let created = post(client, url, key, "/api/v1/cases", &body(&case)).await?;
        let reference = created["reference"]
            .as_str()
            .context("a new case's reference")?;
        let messages = format!("/api/v1/cases/{reference}/messages");
        for message in [
            json!({ "channel": "sms", "body": "We have your report. Reply to this text if the bin is still out." }),
            json!({ "channel": "email", "subject": "Your report", "body": "We have your report. Reply to this email if anything changes." }),
        ] {
            post(client, url, key, &messages, &message).await?;
        }
        residents.push(Resident { number, email });
    }
    Ok(residents)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let response = client
        .post(format!("{url}{path}"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "POST {path} answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    Ok(response.json().await?)
}

/// GOV.UK Notify's received-text callback, from a resident written to or from a number no case
/// has (one from Ofcom's London range for drama, which no demo resident has).
fn received_text(rng: &mut StdRng, residents: &[Resident], unknown: bool) -> Value {
    let source_number = if unknown {
        format!("44207946{:04}", rng.random_range(0..1000))
    } else {
        residents[rng.random_range(0..residents.len())]
            .number
            .clone()
    };
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "source_number": source_number,
        "destination_number": "07700900000",
        "message": REPLIES[rng.random_range(0..REPLIES.len())],
        "date_received": time::OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default(),
    })
}

/// A resident's email as the mail gateway posts it, the raw message: from a resident written to
/// (found by their address) or from an address no case has.
fn inbound_email(rng: &mut StdRng, residents: &[Resident], unknown: bool) -> String {
    let from = if unknown {
        format!("new.resident{}@example.net", rng.random_range(0..1000))
    } else {
        residents[rng.random_range(0..residents.len())]
            .email
            .clone()
    };
    let date = time::OffsetDateTime::now_utc()
        .format(&Rfc2822)
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: replies@council.example\r\nSubject: Re: Your report\r\n\
         Message-ID: <{}@example.net>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        uuid::Uuid::now_v7(),
        REPLIES[rng.random_range(0..REPLIES.len())]
    )
}

impl Filed {
    /// Counts a hook's answer, `{"filed": "case" | "waiting" | "repeated"}`.
    fn count(&self, answer: &[u8]) {
        let filed: Value = serde_json::from_slice(answer).unwrap_or_default();
        match filed["filed"].as_str() {
            Some("case") => self.on_case.fetch_add(1, Ordering::Relaxed),
            Some("waiting") => self.waiting.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}

/// Signs in and returns the session cookie, as `name=value`.
async fn sign_in(url: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client
        .post(format!("{url}/staff/sign-in"))
        .header(reqwest::header::ORIGIN, url)
        .form(&[("email", email), ("password", password)])
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("could not sign in as {email}: {}", response.status());
    }
    response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|cookie| cookie.split(';').next())
        .map(str::to_owned)
        .context("signing in set no cookie")
}
