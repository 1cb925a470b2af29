//! `serve` and `worker`: the long-running processes, and how they stop.

use std::net::SocketAddr;

use anyhow::Context;
use casework_app::{App, Feature, Senders};
use casework_domain::service::Role;
use casework_worker::{Worker, WorkerConfig};
use tokio::sync::watch;

use crate::config::{Config, Sessions};

/// How many demo cases `serve --demo` adds to an empty database.
const DEMO_CASES: u64 = 300;

pub async fn serve(
    config: &Config,
    listen: SocketAddr,
    sessions: &Sessions,
    demo: bool,
    with_worker: bool,
) -> anyhow::Result<()> {
    let app = config.app().await?;
    // The demo sends nothing: what it would send is in the dev outbox.
    let app = if demo {
        app.with_senders(Senders::dev())
    } else {
        app
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("could not listen on {listen} (CASEWORK_LISTEN)"))?;
    let url = format!("http://{}", listener.local_addr()?);
    if demo {
        prepare_demo(&app, &url).await?;
    }
    let (stop, stopped) = watch::channel(false);
    let worker = with_worker.then(|| tokio::spawn(run_worker(app.clone(), stopped.clone())));
    println!(
        "Casework is serving {} services at {url}",
        app.services().len()
    );
    // With the connection's address, which limits failed sign-ins when no proxy gives it.
    let web = casework_web::WebConfig {
        base_url: config.base_url.clone().unwrap_or_else(|| url.clone()),
        dev_outbox: demo,
        ..sessions.web_config()
    };
    let router = casework_web::router_with(app, &web);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal(stop))
    .await
    .context("the server stopped with an error")?;
    if let Some(worker) = worker {
        worker.await.context("the worker did not stop cleanly")?;
    }
    Ok(())
}

pub async fn worker(config: &Config) -> anyhow::Result<()> {
    let app = config.app().await?;
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(run_worker(app, stopped));
    shutdown_signal(stop).await;
    worker.await.context("the worker did not stop cleanly")?;
    Ok(())
}

async fn run_worker(app: App, mut stopped: watch::Receiver<bool>) {
    let id = format!("{}-{}", std::process::id(), random_suffix());
    Worker::new(app, id, WorkerConfig::default())
        .run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await;
}

/// A short random suffix, so that two workers in one container (same pid) differ.
fn random_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// Completes on Ctrl-C or SIGTERM, and tells the worker to stop.
async fn shutdown_signal(stop: watch::Sender<bool>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("stopping: finishing requests and the running job");
    let _ = stop.send(true);
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
