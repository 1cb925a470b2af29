//! `casework bench`: measures Casework through its real HTTP interface and prints the figures.
//! With no `--url` it starts the server in this process on a free loopback port, against the
//! configured database; with `--url` it measures a server running elsewhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use casework_app::App;
use casework_app::demo::DemoCases;
use casework_domain::case::NewCase;
use casework_domain::service::Role;
use clap::{Args, Subcommand};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Mutex;

use crate::config::Config;

mod mixed;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Case-list pages of 50 with the worktray's common filters: latency per filter.
    List {
        #[command(flatten)]
        target: Target,
        /// Requests per filter.
        #[arg(long, default_value_t = 500)]
        requests: u32,
        /// Clients sending at once.
        #[arg(long, default_value_t = 1)]
        clients: u32,
    },
    /// The worktray and case pages as a signed-in member of staff sees them: latency per page.
    Pages {
        #[command(flatten)]
        target: Target,
        /// Requests per page.
        #[arg(long, default_value_t = 500)]
        requests: u32,
        /// Clients sending at once.
        #[arg(long, default_value_t = 1)]
        clients: u32,
    },
    /// Staff pages, API reads and writes, and residents' replies through the inbound hooks at
    /// once, against one replica or several: throughput, latency by kind and errors.
    Mixed(mixed::Mixed),
    /// Case creation through the API: throughput and latency.
    Create {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 32)]
        clients: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[derive(Debug, Args)]
pub struct Target {
    /// A running Casework, such as http://127.0.0.1:8080; by default one is started here.
    #[arg(long)]
    url: Option<String>,
    /// The API key for `--url`; by default a key is made in the configured database.
    #[arg(long, env = "CASEWORK_BENCH_API_KEY")]
    api_key: Option<String>,
}

/// The worktray's common views, as API queries.
const LIST_QUERIES: &[(&str, &str)] = &[
    (
        "team's open cases by due",
        "open=true&team=repairs&sort=due",
    ),
    ("team's unassigned", "open=true&team=waste&unassigned=true"),
    ("team's overdue", "overdue=true&team=environmental-health"),
    ("service and state", "service=housing-repair&state=reported"),
    ("all open, recently updated", "open=true&sort=updated"),
    (
        "team's open cases by priority",
        "open=true&team=repairs&sort=priority",
    ),
    (
        "assigned to a person",
        "assignee=agent%40example.com&open=true",
    ),
    ("search by name", "q=okafor"),
    ("search by reference", "q=CW-000777"),
];

struct Server {
    url: String,
    key: String,
    app: App,
}

async fn server(config: &Config, target: Target) -> anyhow::Result<Server> {
    let app = config.app().await?;
    let key = match target.api_key {
        Some(key) => key,
        None => app.create_api_key("bench", Role::Admin).await?.secret,
    };
    let url = match target.url {
        Some(url) => url,
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", listener.local_addr()?);
            let router = casework_web::router(app.clone())
                .into_make_service_with_connect_info::<std::net::SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, router).await });
            url
        }
    };
    Ok(Server { url, key, app })
}

pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    match command {
        BenchCommand::List {
            target,
            requests,
            clients,
        } => bench_list(&client, server(config, target).await?, requests, clients).await,
        BenchCommand::Pages {
            target,
            requests,
            clients,
        } => bench_pages(server(config, target).await?, requests, clients).await,
        BenchCommand::Mixed(mixed) => mixed::run(config, mixed).await,
        BenchCommand::Create {
            target,
            clients,
            seconds,
        } => bench_create(&client, server(config, target).await?, clients, seconds).await,
    }
}

async fn bench_list(
    client: &reqwest::Client,
    server: Server,
    requests: u32,
    clients: u32,
) -> anyhow::Result<()> {
    let total = server
        .app
        .count_cases(&crate::operator(), &Default::default())
        .await?;
    println!(
        "Case list, pages of 50, {requests} requests per view, {clients} clients, {total} cases, {}",
        server.url
    );
    print_header();
    for (name, query) in LIST_QUERIES {
        let url = format!("{}/api/v1/cases?{query}&limit=50", server.url);
        let request = client.get(&url).bearer_auth(&server.key);
        print_row(name, &measure(request, requests, clients).await?);
    }
    Ok(())
}

/// The worktray's views and a case page, as HTML for a signed-in agent of every team.
async fn bench_pages(server: Server, requests: u32, clients: u32) -> anyhow::Result<()> {
    let (agent, password) = server
        .app
        .prepare_demo_staff()
        .await?
        .into_iter()
        .find(|(member, _)| member.role == Role::Agent)
        .context("the demo staff include an agent")?;
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let signed_in = client
        .post(format!("{}/staff/sign-in", server.url))
        .header(reqwest::header::ORIGIN, &server.url)
        .form(&[
            ("email", agent.email.as_str()),
            ("password", password.as_str()),
        ])
        .send()
        .await?;
    if !signed_in.url().path().starts_with("/staff") || signed_in.url().path().contains("sign-in") {
        bail!(
            "could not sign in as {}: ended at {}",
            agent.email,
            signed_in.url()
        );
    }
    let total = server
        .app
        .count_cases(&crate::operator(), &Default::default())
        .await?;
    let some_case = server
        .app
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
        .context("the database has cases")?;
    println!(
        "Staff pages as {}, {requests} requests per page, {clients} clients, {total} cases, {}",
        agent.email, server.url
    );
    print_header();
    let case_page = format!("/staff/cases/{}", some_case.reference);
    let pages: [(&str, &str); 8] = [
        ("worktray: my cases", "/staff"),
        ("worktray: unassigned in team", "/staff?view=unassigned"),
        ("worktray: overdue", "/staff?view=overdue"),
        (
            "worktray: one service by last update",
            "/staff?view=open&service=housing-repair&sort=updated",
        ),
        ("worktray: all open by due", "/staff?view=open"),
        (
            "worktray: all open by priority",
            "/staff?view=open&sort=priority",
        ),
        ("worktray: search by name", "/staff?view=open&q=okafor"),
        ("case page", &case_page),
    ];
    for (name, path) in pages {
        let request = client.get(format!("{}{path}", server.url));
        print_row(name, &measure(request, requests, clients).await?);
    }
    Ok(())
}

/// Sends `requests` copies of `request` from `clients` tasks at once; every answer must be 2xx.
async fn measure(
    request: reqwest::RequestBuilder,
    requests: u32,
    clients: u32,
) -> anyhow::Result<Histogram<u64>> {
    let histogram = Arc::new(Mutex::new(new_histogram()));
    let remaining = Arc::new(std::sync::atomic::AtomicU32::new(requests));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let request = request
            .try_clone()
            .context("a bodiless request can be cloned")?;
        let (histogram, remaining) = (histogram.clone(), remaining.clone());
        tasks.push(tokio::spawn(async move {
            while remaining
                .fetch_update(
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                    |n| n.checked_sub(1),
                )
                .is_ok()
            {
                let started = Instant::now();
                let response = request
                    .try_clone()
                    .context("a bodiless request can be cloned")?
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("{} answered {}", response.url(), response.status());
                }
                response.bytes().await?;
                record(&histogram, started.elapsed()).await;
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let histogram = histogram.lock().await.clone();
    Ok(histogram)
}

fn print_header() {
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}",
        "view", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
}

fn print_row(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<30} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.95)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
}

async fn bench_create(
    client: &reqwest::Client,
    server: Server,
    clients: u32,
    seconds: u64,
) -> anyhow::Result<()> {
    let app = &server.app;
    let mut demo = DemoCases::new(app.services(), app.calendar(), app.now(), 99);
    let bodies: Arc<Vec<serde_json::Value>> =
        Arc::new((0..4096).map(|_| body(&demo.case())).collect());
    let histogram = Arc::new(Mutex::new(new_histogram()));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = format!("{}/api/v1/cases", server.url);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client_number in 0..clients as usize {
        let (client, url, key, bodies, histogram, errors) = (
            client.clone(),
            url.clone(),
            server.key.clone(),
            bodies.clone(),
            histogram.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = client_number;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&bodies[n % bodies.len()])
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED);
                if ok {
                    record(&histogram, sent.elapsed()).await;
                } else {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                n += clients as usize;
            }
        }));
    }
    for task in tasks {
        task.await.context("a client failed")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let h = histogram.lock().await;
    println!(
        "Case creation through POST /api/v1/cases, {clients} clients, {seconds} s, {}",
        server.url
    );
    println!(
        "created {} ({:.0} a second), errors {}, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        h.len(),
        h.len() as f64 / elapsed,
        errors.load(std::sync::atomic::Ordering::Relaxed),
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
    Ok(())
}

/// A new case as an API client would send it.
fn body(case: &NewCase) -> serde_json::Value {
    json!({
        "service": case.service,
        "priority": case.priority,
        "contact": case.contact,
        "answers": case.answers,
        "description": case.description,
        "location": case.location,
    })
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

async fn record(histogram: &Mutex<Histogram<u64>>, elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    histogram.lock().await.saturating_record(micros);
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}
