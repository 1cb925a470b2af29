//! `casework bench mixed`: staff pages, API reads and API writes at once, against one replica
//! or several, as a council's day mixes them: throughput, latency by kind of request, errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use casework_app::App;
use casework_app::demo::DemoCases;
use casework_domain::service::Role;
use clap::Args;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;

use super::{body, ms, new_histogram};
use crate::config::Config;

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
}

const MIX: [(Kind, u32); 3] = [
    (Kind::StaffPage, 40),
    (Kind::ApiRead, 45),
    (Kind::ApiWrite, 15),
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

struct Figures {
    latency: [Histogram<u64>; 3],
}

pub async fn run(config: &Config, mixed: Mixed) -> anyhow::Result<()> {
    let app = config.app().await?;
    let key = app.create_api_key("bench mixed", Role::Admin).await?.secret;
    let urls = if mixed.urls.is_empty() {
        vec![start_here(&app).await?]
    } else {
        mixed
            .urls
            .iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect()
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
    let figures = Arc::new(Mutex::new(Figures {
        latency: [new_histogram(), new_histogram(), new_histogram()],
    }));
    let errors = Arc::new(AtomicU64::new(0));
    let first_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + Duration::from_secs(mixed.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..mixed.clients as usize {
        let url = urls[n % urls.len()].clone();
        let (client, key, cookie, bodies) =
            (client.clone(), key.clone(), cookie.clone(), bodies.clone());
        let (figures, errors, first_errors) =
            (figures.clone(), errors.clone(), first_errors.clone());
        let (case_page, case_api) = (case_page.clone(), case_api.clone());
        tasks.push(tokio::spawn(async move {
            // Seeded per client: the same run sends the same mix.
            let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
            let mut sent = n;
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
                };
                let began = Instant::now();
                let outcome = match request.send().await {
                    Ok(response) if response.status().is_success() => response
                        .bytes()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Ok(response) => Err(format!("{} {}", response.url().path(), response.status())),
                    Err(error) => Err(error.to_string()),
                };
                match outcome {
                    Ok(()) => {
                        let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                        figures.lock().await.latency[kind as usize].saturating_record(micros);
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
    for (kind, name) in [
        (Kind::StaffPage, "staff page"),
        (Kind::ApiRead, "API read"),
        (Kind::ApiWrite, "API write"),
    ] {
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

/// A server in this process on a free loopback port, against the configured database.
async fn start_here(app: &App) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = casework_web::router(app.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
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
