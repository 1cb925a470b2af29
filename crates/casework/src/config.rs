//! Configuration shared by every subcommand, from `CASEWORK_*` environment variables (or the
//! matching flags). Every setting has a default that runs Casework locally. A secret may come
//! from a file instead (`CASEWORK_DATABASE_URL_FILE`), as container platforms hand them over.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use axum::http::HeaderName;
use casework_app::{App, Features, ReplyAddress, load_calendar, load_services};
use casework_domain::service::ServiceCatalogue;
use casework_web::{HookTokens, WebConfig};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};

use crate::telemetry::TRACES_PATH;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The database: `sqlite:FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "CASEWORK_DATABASE_URL",
        default_value = "sqlite:casework.db",
        global = true,
        // `--help` would print the variable's value, password and all.
        hide_env_values = true
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
    #[arg(
        long,
        env = "CASEWORK_FEATURES",
        default_value = "all",
        global = true,
        value_parser = |s: &str| s.parse::<Features>()
    )]
    pub features: Features,
    /// The address people reach Casework at, for the links it gives out (a new member of
    /// staff's link to set their password, a resident's link to their plan). `serve` defaults
    /// to the address it listens on; other commands to `http://127.0.0.1:8080`.
    #[arg(long, env = "CASEWORK_BASE_URL", global = true, value_parser = base_url)]
    pub base_url: Option<String>,
    /// The address residents' email replies go to (such as `replies@council.example`). Each
    /// email sent carries it with a token of its own (`replies+TOKEN@council.example`), by which
    /// a reply finds its case; the mail gateway must deliver such addresses to this one and post
    /// what arrives to `/hooks/email/inbound`. Without it, replies are matched by thread and
    /// sender.
    #[arg(long, env = "CASEWORK_REPLY_ADDRESS", global = true, value_parser = reply_address)]
    pub reply_address: Option<ReplyAddress>,
    /// `text` for people, `json` for a log collector.
    #[arg(
        long,
        env = "CASEWORK_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// An OpenTelemetry collector's OTLP/HTTP address, such as `http://otel-collector:4318`:
    /// each request's span goes to its `/v1/traces`. Without it, no traces are sent.
    #[arg(
        long,
        env = "CASEWORK_OTEL_ENDPOINT",
        global = true,
        hide_env_values = true,
        value_parser = otel_endpoint
    )]
    pub otel_endpoint: Option<String>,
    /// The `service.name` of the traces, which tells Casework's spans from other systems'.
    #[arg(
        long,
        env = "CASEWORK_OTEL_SERVICE_NAME",
        default_value = "casework",
        global = true,
        value_parser = service_name
    )]
    pub otel_service_name: String,
    /// The file `database_url` was read from, when it came from `CASEWORK_DATABASE_URL_FILE`.
    #[arg(skip)]
    pub database_url_file: Option<PathBuf>,
}

/// An `http` or `https` address, without a path's trailing `/`.
fn base_url(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or("it must start with http:// or https://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("it has no host".into());
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// A collector's address, to which the OTLP path is added.
fn otel_endpoint(value: &str) -> Result<String, String> {
    let endpoint = base_url(value)?;
    endpoint
        .parse::<axum::http::Uri>()
        .map_err(|e| e.to_string())?;
    if endpoint.ends_with(TRACES_PATH) {
        return Err(format!(
            "give the collector's address without {TRACES_PATH}, which Casework adds"
        ));
    }
    Ok(endpoint)
}

fn service_name(value: &str) -> Result<String, String> {
    let name = value.trim();
    if name.is_empty() {
        return Err("it must not be empty".into());
    }
    Ok(name.to_owned())
}

fn reply_address(value: &str) -> Result<ReplyAddress, String> {
    ReplyAddress::parse(value).ok_or_else(|| {
        "it must be an email address without a `+`, like replies@council.example".into()
    })
}

/// The shortest hook token accepted: a guessable token would let anyone file messages.
const MIN_TOKEN_CHARS: usize = 24;

fn hook_token(value: &str) -> Result<String, String> {
    if value.chars().count() < MIN_TOKEN_CHARS {
        return Err(format!(
            "it must be at least {MIN_TOKEN_CHARS} characters (make one with `openssl rand -hex 24`)"
        ));
    }
    Ok(value.to_owned())
}

/// How the inbound hooks know their callers. A hook whose token is not set is not served.
#[derive(Debug, Clone, Args)]
pub struct Hooks {
    /// The bearer token GOV.UK Notify sends with its callbacks (received texts, delivery
    /// receipts): give Notify the same. Also from a file, `CASEWORK_NOTIFY_CALLBACK_TOKEN_FILE`.
    #[arg(long, env = "CASEWORK_NOTIFY_CALLBACK_TOKEN", hide_env_values = true, value_parser = hook_token)]
    pub notify_callback_token: Option<String>,
    /// The bearer token the mail gateway sends when it posts an inbound email. Also from a
    /// file, `CASEWORK_INBOUND_EMAIL_TOKEN_FILE`.
    #[arg(long, env = "CASEWORK_INBOUND_EMAIL_TOKEN", hide_env_values = true, value_parser = hook_token)]
    pub inbound_email_token: Option<String>,
}

impl Hooks {
    /// Reads the tokens given as files, as [`Config::read_secret_files`] does.
    pub fn read_secret_files(&mut self) -> anyhow::Result<()> {
        for (variable, token) in [
            (
                "CASEWORK_NOTIFY_CALLBACK_TOKEN",
                &mut self.notify_callback_token,
            ),
            (
                "CASEWORK_INBOUND_EMAIL_TOKEN",
                &mut self.inbound_email_token,
            ),
        ] {
            let file = format!("{variable}_FILE");
            let Some(path) = std::env::var_os(&file) else {
                continue;
            };
            if token.is_some() {
                bail!("{file} and {variable} are both set: set one");
            }
            let secret = read_secret(Path::new(&path)).context(file.clone())?;
            *token = Some(hook_token(&secret).map_err(|e| anyhow!("{file}: {e}"))?);
        }
        Ok(())
    }

    pub fn tokens(&self) -> HookTokens {
        HookTokens {
            notify: self.notify_callback_token.clone(),
            inbound_email: self.inbound_email_token.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where `serve` listens, whether it runs the worker too, and how it drains on SIGTERM.
#[derive(Debug, Clone, Args)]
pub struct Serving {
    #[arg(long, env = "CASEWORK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Run no worker in this process (run `casework worker` elsewhere).
    #[arg(long, env = "CASEWORK_NO_WORKER")]
    pub no_worker: bool,
    /// On SIGTERM, first answer `/readyz` with 503 and close each connection after its response,
    /// still serving, for this many seconds, so that load balancers and clients move to other
    /// replicas before this one stops taking connections. It counts within
    /// CASEWORK_SHUTDOWN_GRACE. Ctrl-C skips it.
    #[arg(long, env = "CASEWORK_SHUTDOWN_DELAY", default_value_t = 5)]
    pub shutdown_delay: u64,
}

impl Serving {
    /// Refuses a drain delay that would use up the grace period it counts within.
    pub fn check(&self, lifecycle: &Lifecycle) -> anyhow::Result<()> {
        if self.shutdown_delay > 0 && self.shutdown_delay >= lifecycle.shutdown_grace {
            bail!(
                "CASEWORK_SHUTDOWN_DELAY (or --shutdown-delay) is not right: {} s is not shorter \
                 than CASEWORK_SHUTDOWN_GRACE ({} s), within which it counts",
                self.shutdown_delay,
                lifecycle.shutdown_grace
            );
        }
        Ok(())
    }
}

/// How the long-running processes share work and stop.
#[derive(Debug, Clone, Args)]
pub struct Lifecycle {
    /// On SIGTERM or Ctrl-C, stop taking new jobs and, after `serve`'s drain delay
    /// (CASEWORK_SHUTDOWN_DELAY), new connections; this many seconds after the signal, stop
    /// anyway, even if requests or the job in progress have not finished.
    #[arg(long, env = "CASEWORK_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// How many seconds a claimed job is its worker's before another worker may take it over
    /// (when its worker died). Keep it well above the senders' 30-second timeout: a job taken
    /// over while its first worker still waits on the provider may send twice by SMTP.
    #[arg(
        long,
        env = "CASEWORK_JOB_LEASE",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub job_lease: u64,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Args)]
pub struct Metrics {
    /// Serve `/metrics` only on this address (such as `0.0.0.0:9090`), apart from the public
    /// routes; without it `serve` answers `/metrics` beside them and `worker` serves none.
    #[arg(long, env = "CASEWORK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
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

    /// Reads the secrets that were given as files. A secret given both ways is refused rather
    /// than one of them being ignored.
    pub fn read_secret_files(&mut self, matches: &ArgMatches) -> anyhow::Result<()> {
        if let Some(path) = std::env::var_os("CASEWORK_DATABASE_URL_FILE") {
            if matches.value_source("database_url") != Some(ValueSource::DefaultValue) {
                bail!(
                    "CASEWORK_DATABASE_URL_FILE and CASEWORK_DATABASE_URL (or --database-url) \
                     are both set: set one"
                );
            }
            let path = PathBuf::from(path);
            self.database_url = read_secret(&path).context("CASEWORK_DATABASE_URL_FILE")?;
            self.database_url_file = Some(path);
        }
        Ok(())
    }

    /// Loads the services and calendar, connects to the database and brings it up to date.
    pub async fn app(&self) -> anyhow::Result<App> {
        let services = self.services()?;
        let calendar = load_calendar(self.closure_days_file.as_deref())
            .map_err(|e| anyhow!("CASEWORK_CLOSURE_DAYS_FILE: {e}"))?;
        let features = self.features.clone();
        let store = casework_store::connect(&self.database_url)
            .await
            .with_context(|| "could not open the database at CASEWORK_DATABASE_URL".to_owned())?;
        store
            .migrate()
            .await
            .context("could not bring the database schema up to date")?;
        let mut app = App::new(store, services, calendar, features);
        if let Some(address) = &self.reply_address {
            app = app.with_reply_address(address.clone());
        }
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

/// A secret from a file, without the line end that editors and `echo` add.
pub(crate) fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(secret.to_owned())
}
