//! `serve` and `worker`: the long-running processes, and how they stop.

use std::net::SocketAddr;

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, bail};
use casework_app::{App, Feature, Senders};
use casework_domain::service::Role;
use casework_worker::{Worker, WorkerConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, Hooks, Lifecycle, Metrics, Serving, Sessions};

/// How many demo cases `serve --demo` adds to an empty database.
const DEMO_CASES: u64 = 300;

/// What both long-running processes take: where metrics go, how they stop and share jobs, and
/// how messages leave.
pub struct Process<'a> {
    pub metrics: &'a Metrics,
    pub lifecycle: &'a Lifecycle,
    pub senders: Senders,
}

pub async fn serve(
    config: &Config,
    serving: &Serving,
    sessions: &Sessions,
    process: Process<'_>,
    mut hooks: Hooks,
    demo: bool,
) -> anyhow::Result<()> {
    let app = config.app().await?.with_senders(process.senders);
    let listen = serving.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("could not listen on {listen} (CASEWORK_LISTEN)"))?;
    let url = format!("http://{}", listener.local_addr()?);
    if demo {
        prepare_demo(&app, &url).await?;
        demo_hooks(&mut hooks, &url);
    }
    // Two stages: the worker stops at the signal; the servers after the drain delay.
    let mut signals = Signals::listen()?;
    let (stop_worker, worker_stopped) = watch::channel(false);
    let (stop, stopped) = watch::channel(false);
    let metrics_server = serve_metrics(&app, process.metrics, stopped.clone()).await?;
    let worker = (!serving.no_worker).then(|| {
        tokio::spawn(run_worker(
            app.clone(),
            Duration::from_secs(process.lifecycle.job_lease),
            worker_stopped,
        ))
    });
    println!(
        "Casework is serving {} services at {url}",
        app.services().len()
    );
    let draining = casework_web::Draining::default();
    // With the connection's address, which limits failed sign-ins when no proxy gives it.
    let web = casework_web::WebConfig {
        base_url: config.base_url.clone().unwrap_or_else(|| url.clone()),
        dev_outbox: demo,
        metrics: process.metrics.metrics_listen.is_none(),
        hooks: hooks.tokens(),
        draining: draining.clone(),
        ..sessions.web_config()
    };
    let mut router = casework_web::router_with(app, &web);
    if config.otel_endpoint.is_some() {
        router = router.layer(axum::middleware::from_fn(crate::telemetry::follow_caller));
    }
    let mut server_stopped = stopped.clone();
    let mut server = tokio::spawn(
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_stopped.wait_for(|stop| *stop).await;
        })
        .into_future(),
    );
    let signal = tokio::select! {
        ended = &mut server => {
            // Nothing told it to stop: it failed.
            let _ = stop_worker.send(true);
            let _ = stop.send(true);
            ended
                .context("the server stopped")?
                .context("the server stopped with an error")?;
            return within_grace(process.lifecycle, finish(worker, metrics_server)).await;
        }
        signal = signals.next() => signal,
    };
    let delay = match signal {
        Signal::Terminate => Duration::from_secs(serving.shutdown_delay),
        Signal::Interrupt => Duration::ZERO,
    };
    tracing::info!(
        delay_s = delay.as_secs(),
        "stopping: unready and closing connections for the drain delay, then finishing \
         requests and the running job"
    );
    within_grace(process.lifecycle, async move {
        draining.start();
        let _ = stop_worker.send(true);
        drain(delay, &mut signals).await;
        let _ = stop.send(true);
        server
            .await
            .context("the server did not stop cleanly")?
            .context("the server stopped with an error")?;
        finish(worker, metrics_server).await
    })
    .await
}

/// Keeps serving, unready, for the drain delay: long enough for load balancers to take this
/// replica out and for clients' kept-alive connections to close. Ctrl-C ends it early.
async fn drain(delay: Duration, signals: &mut Signals) {
    if delay.is_zero() {
        return;
    }
    let interrupted = async { while signals.next().await != Signal::Interrupt {} };
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = interrupted => tracing::info!("Ctrl-C: the drain delay is cut short"),
    }
}

pub async fn worker(config: &Config, process: Process<'_>) -> anyhow::Result<()> {
    let app = config.app().await?.with_senders(process.senders);
    let mut signals = Signals::listen()?;
    let (stop, stopped) = watch::channel(false);
    let metrics_server = serve_metrics(&app, process.metrics, stopped.clone()).await?;
    let worker = tokio::spawn(run_worker(
        app,
        Duration::from_secs(process.lifecycle.job_lease),
        stopped,
    ));
    // A worker has no connections to drain: it stops taking jobs at once.
    signals.next().await;
    tracing::info!("stopping: finishing the running job");
    let _ = stop.send(true);
    within_grace(process.lifecycle, finish(Some(worker), metrics_server)).await
}

/// Waits for the worker and the metrics server to stop.
async fn finish(
    worker: Option<JoinHandle<()>>,
    metrics_server: Option<JoinHandle<std::io::Result<()>>>,
) -> anyhow::Result<()> {
    if let Some(worker) = worker {
        worker.await.context("the worker did not stop cleanly")?;
    }
    if let Some(metrics_server) = metrics_server {
        metrics_server
            .await
            .context("the metrics server did not stop cleanly")??;
    }
    Ok(())
}

/// Gives `stopping` (for `serve`, the drain delay and then the requests in flight) the grace
/// period, counted from the signal. Past it, the process stops anyway: the platform would kill
/// it soon, and a job cut short is taken over by another worker when its lease ends.
async fn within_grace(
    lifecycle: &Lifecycle,
    stopping: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(lifecycle.shutdown_grace);
    match tokio::time::timeout(grace, stopping).await {
        Ok(stopped) => {
            tracing::info!("stopped");
            stopped
        }
        Err(_) => bail!(
            "requests or a job were still running {} s after the signal \
             (CASEWORK_SHUTDOWN_GRACE): stopped without them",
            lifecycle.shutdown_grace
        ),
    }
}

/// Serves `/metrics` on `CASEWORK_METRICS_LISTEN`, if set, until told to stop.
async fn serve_metrics(
    app: &App,
    metrics: &Metrics,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<std::io::Result<()>>>> {
    let Some(address) = metrics.metrics_listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("could not listen on {address} (CASEWORK_METRICS_LISTEN)"))?;
    println!("Metrics at http://{}/metrics", listener.local_addr()?);
    let router = casework_web::metrics_router(app.clone());
    Ok(Some(tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .into_future(),
    )))
}

async fn run_worker(app: App, lease: Duration, mut stopped: watch::Receiver<bool>) {
    let id = format!("{}-{}", std::process::id(), random_suffix());
    let config = WorkerConfig {
        lease,
        ..WorkerConfig::default()
    };
    Worker::new(app, id, config)
        .run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await;
}

/// A short random suffix, so that two workers in one container (same pid) differ.
fn random_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// The signals that stop `serve` and `worker`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// SIGTERM: the platform is stopping this replica, and its load balancer must move away.
    Terminate,
    /// Ctrl-C (SIGINT): a person at a terminal, with no load balancer to wait for.
    Interrupt,
}

/// SIGTERM and Ctrl-C, listened for from when the process serves: before, either would end it
/// at once, which suits a process still starting.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next signal.
    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => Signal::Terminate,
                _ = self.interrupt.recv() => Signal::Interrupt,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }
}

/// Fills an empty database with demo cases, and prints a key to try the API with and the
/// demo staff to sign in as.
async fn prepare_demo(app: &App, url: &str) -> anyhow::Result<()> {
    if app.is_empty().await? {
        app.seed_demo(DEMO_CASES).await?;
        println!("Added {DEMO_CASES} demo cases.");
    } else {
        println!("The database already has cases; no demo cases added.");
    }
    if app.features().is_on(Feature::Worktray) {
        let staff = app.prepare_demo_staff().await?;
        println!(
            "Sign in at {url}/staff/sign-in as one of the demo staff (each `serve --demo` gives \
             them new passwords):\n"
        );
        for (member, password) in staff {
            println!(
                "  {:<20} password: {password}   ({})",
                member.email, member.role
            );
        }
        println!();
    }
    let key = app.create_api_key("demo", Role::Lead).await?;
    println!(
        "Demo API key (role lead), shown once:\n\n  {secret}\n\nTry:\n  curl -H 'Authorization: Bearer {secret}' {url}/api/v1/cases\n  (the API is described at {url}/api/v1/openapi.json)",
        secret = key.secret
    );
    Ok(())
}

/// Gives the demo's inbound hooks tokens, where none were set, and shows how to post a
/// resident's reply to them.
fn demo_hooks(hooks: &mut Hooks, url: &str) {
    let notify = hooks
        .notify_callback_token
        .get_or_insert_with(new_hook_token)
        .clone();
    let email = hooks
        .inbound_email_token
        .get_or_insert_with(new_hook_token)
        .clone();
    println!(
        "\nReplies from residents: send a message from a case, then post the resident's answer \
         as GOV.UK Notify would (use the number on the case):\n\n  curl -H 'Authorization: \
         Bearer {notify}' -H 'Content-Type: application/json' -d '{{\"id\": \"demo-1\", \
         \"source_number\": \"447700900123\", \"destination_number\": \"07700900000\", \
         \"message\": \"Thanks, Tuesday is fine\", \"date_received\": \
         \"2026-12-04T10:00:00.000000Z\"}}' {url}/hooks/notify/received-text\n\nor an email \
         as a mail gateway would:\n\n  curl -H 'Authorization: Bearer {email}' --data-binary \
         @reply.eml {url}/hooks/email/inbound\n"
    );
}

/// A random hook token, for a server that no operator gave one.
pub(crate) fn new_hook_token() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}
