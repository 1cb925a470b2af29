//! Configuration shared by every subcommand, from `CASEWORK_*` environment variables (or the
//! matching flags). Every setting has a default that runs Casework locally.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use casework_app::{App, Features, load_calendar, load_services};
use casework_domain::service::ServiceCatalogue;
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
        Ok(App::new(store, services, calendar, features))
    }
}
