//! Configuration shared by every subcommand, from `CASEWORK_*` environment variables (or the
//! matching flags). Every setting has a default that runs Casework locally.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use axum::http::HeaderName;
use casework_app::{App, Features, load_calendar, load_services};
use casework_domain::service::ServiceCatalogue;
use casework_web::WebConfig;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The database: `sqlite:FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "CASEWORK_DATABASE_URL",
        default_value = "sqlite:casework.db",
        global = true
    )]
    pub database_url: String,
    /// The folder of service definition files (`*.toml`).
    #[arg(
        long,
        env = "CASEWORK_SERVICES_DIR",
        default_value = "services",
        global = true
    )]
    pub services_dir: PathBuf,
    /// A file of the council's own closure days (one YYYY-MM-DD a line), which SLAs skip like
    /// bank holidays.
    #[arg(long, env = "CASEWORK_CLOSURE_DAYS_FILE", global = true)]
    pub closure_days_file: Option<PathBuf>,
    /// The elements switched on: any of api, worktray, plan, messaging, intake, open311, or all.
    #[arg(long, env = "CASEWORK_FEATURES", default_value = "all", global = true)]
    pub features: String,
    /// The address people reach Casework at, for the links it gives out (a new member of
    /// staff's link to set their password, a resident's link to their plan). `serve` defaults
    /// to the address it listens on; other commands to `http://127.0.0.1:8080`.
    #[arg(long, env = "CASEWORK_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// `text` for people, `json` for a log collector.
    #[arg(
        long,
        env = "CASEWORK_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where `serve` listens.
#[derive(Debug, Clone, Args)]
pub struct Listen {
    #[arg(long, env = "CASEWORK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// How `serve` keeps staff signed in.
#[derive(Debug, Clone, Args)]
pub struct Sessions {
    /// Mark the cookies (the staff session, a resident's language) `Secure`, so that browsers
    /// send them over https only. Set this whenever Casework is reached over https; without
    /// https a browser would not send them back.
    #[arg(long, env = "CASEWORK_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// A staff session ends after this many minutes without a request.
    #[arg(
        long,
        env = "CASEWORK_SESSION_IDLE_MINUTES",
        default_value_t = 480,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub session_idle_minutes: u32,
    /// The header in which a proxy in front of Casework gives the client's address (such as
    /// `X-Forwarded-For`; its last address is used). Set it only behind such a proxy, which
    /// must set the header itself: failed sign-ins are limited by address.
    #[arg(long, env = "CASEWORK_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<HeaderName>,
}

impl Sessions {
    pub fn web_config(&self) -> WebConfig {
        WebConfig {
            secure_cookies: self.secure_cookies,
            session_idle: time::Duration::minutes(i64::from(self.session_idle_minutes)),
            client_ip_header: self.client_ip_header.clone(),
            ..WebConfig::default()
        }
    }
}

impl Config {
    pub fn services(&self) -> anyhow::Result<ServiceCatalogue> {
        load_services(&self.services_dir).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow!(
                "the service definitions have problems:\n{}",
                lines.join("\n")
            )
        })
    }

    fn features(&self) -> anyhow::Result<Features> {
        self.features
            .parse()
            .with_context(|| "CASEWORK_FEATURES is not right".to_owned())
    }

    /// Loads the services and calendar, connects to the database and brings it up to date.
    pub async fn app(&self) -> anyhow::Result<App> {
        let services = self.services()?;
        let calendar = load_calendar(self.closure_days_file.as_deref())
            .map_err(|e| anyhow!("CASEWORK_CLOSURE_DAYS_FILE: {e}"))?;
        let features = self.features()?;
        let store = casework_store::connect(&self.database_url)
            .await
            .with_context(|| "could not open the database at CASEWORK_DATABASE_URL".to_owned())?;
        store
            .migrate()
            .await
            .context("could not bring the database schema up to date")?;
        let app = App::new(store, services, calendar, features);
        let ranked = app
            .rank_priorities()
            .await
            .context("could not rank the cases' priorities")?;
        if ranked > 0 {
            tracing::info!(cases = ranked, "ranked cases by their services' priorities");
        }
        Ok(app)
    }
}
