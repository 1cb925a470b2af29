//! `casework`: the one binary. It reads configuration, wires the crates together and runs a
//! subcommand; it holds no rules of its own.

mod bench;
mod config;
mod senders;
mod serve;
mod settings;
mod telemetry;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use casework_app::store::KeyScope;
use casework_app::{App, Caller, NewStaffMember, StaffMember, load_services};
use casework_domain::case::Actor;
use casework_domain::service::Role;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, Hooks, Lifecycle, Metrics, Serving, Sessions};
use crate::senders::Channels;

#[derive(Debug, Parser)]
#[command(
    name = "casework",
    version,
    about = "A council's service requests: worktray, shared plan, messaging."
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web interface and API, with the worker running in the same process.
    Serve {
        #[command(flatten)]
        serving: Serving,
        #[command(flatten)]
        sessions: Sessions,
        #[command(flatten)]
        metrics: Metrics,
        #[command(flatten)]
        hooks: Hooks,
        #[command(flatten)]
        channels: Channels,
        #[command(flatten)]
        lifecycle: Lifecycle,
        /// On an empty database, add demo cases; print an API key to try them with, and demo
        /// staff to sign in as.
        #[arg(long)]
        demo: bool,
    },
    /// Run only the worker: SLA timers and other jobs.
    Worker {
        #[command(flatten)]
        metrics: Metrics,
        #[command(flatten)]
        channels: Channels,
        #[command(flatten)]
        lifecycle: Lifecycle,
    },
    /// Print every setting, its value (secrets masked) and whether it came from the
    /// environment, a file, the command line or the default. Refuses wrong values as `serve`
    /// does.
    Config {
        #[command(flatten)]
        serving: Serving,
        #[command(flatten)]
        sessions: Sessions,
        #[command(flatten)]
        metrics: Metrics,
        #[command(flatten)]
        hooks: Hooks,
        #[command(flatten)]
        channels: Channels,
        #[command(flatten)]
        lifecycle: Lifecycle,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Check service definition files; print each problem as `file:line: message`.
    Check {
        /// The folder to check (default: CASEWORK_SERVICES_DIR).
        dir: Option<std::path::PathBuf>,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Manage staff: who may sign in, with which role, working which teams' cases.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Add made-up cases, for trying things out and for benchmarks.
    Seed {
        /// How many cases to add.
        #[arg(long)]
        cases: u64,
        /// The same seed makes the same cases.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Measure Casework and print the figures.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Make a key and print it once: only its hash is kept.
    #[command(visible_alias = "add")]
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do in a workflow: agent, lead or admin.
        #[arg(long, default_value = "agent")]
        role: Role,
        /// What the key may call: api (the JSON API) or open311 (Open311 GeoReport v2, for
        /// FixMyStreet and other Open311 clients); give --scope twice for both.
        #[arg(long = "scope", value_name = "SCOPE", default_value = "api")]
        scopes: Vec<KeyScope>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a member of staff. Without --password, print a one-time link for them to set their
    /// own, which works for 24 hours.
    Add {
        /// The address they sign in with (in any case: it is kept in lower case).
        #[arg(long)]
        email: String,
        /// Their name, as colleagues see it on cases.
        #[arg(long)]
        name: String,
        /// agent (works their teams' cases), lead (also assigns across their teams and
        /// bulk-updates) or admin (also manages staff and teams).
        #[arg(long)]
        role: Role,
        /// A team whose cases they work, such as `waste`; give --team once for each.
        #[arg(long = "team", value_name = "TEAM")]
        teams: Vec<String>,
        /// Their password (12 characters or more). It stays in the shell's history: the link
        /// is safer.
        #[arg(long)]
        password: Option<String>,
    },
    /// Print a new one-time link for a member of staff to set their password with (for a
    /// forgotten password); an earlier link stops working.
    Link {
        #[arg(long)]
        email: String,
    },
    /// Stop a member of staff signing in, and end their sessions.
    Deactivate {
        #[arg(long)]
        email: String,
    },
}

/// Whoever runs the command acts as an admin: they hold the database.
fn operator() -> Caller {
    Caller {
        actor: Actor::System,
        role: Role::Admin,
        api_key_id: None,
        teams: None,
    }
}

async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let app = config.app().await?;
    match command {
        UserCommand::Add {
            email,
            name,
            role,
            teams,
            password,
        } => {
            let with_link = password.is_none();
            let new = NewStaffMember {
                email,
                name,
                role,
                teams,
                password,
            };
            let member = app.add_staff(&operator(), new).await?;
            println!(
                "Added {} <{}>, {} in {}.",
                member.name,
                member.email,
                member.role,
                teams_text(&member)
            );
            if with_link {
                print_link(&app, config, &member).await?;
            }
        }
        UserCommand::Link { email } => {
            let member = active_member(&app, &email).await?;
            print_link(&app, config, &member).await?;
        }
        UserCommand::Deactivate { email } => {
            let member = active_member(&app, &email).await?;
            app.deactivate_staff(&operator(), member.id).await?;
            println!(
                "{} <{}> can no longer sign in, and their sessions have ended.",
                member.name, member.email
            );
        }
    }
    Ok(())
}

async fn active_member(app: &App, email: &str) -> anyhow::Result<StaffMember> {
    match app.staff_member_by_email(email).await? {
        Some(member) if member.active => Ok(member),
        Some(_) => bail!("{email} has been deactivated"),
        None => bail!("there is no member of staff with the email address {email}"),
    }
}

fn teams_text(member: &StaffMember) -> String {
    match member.teams.as_slice() {
        [] => "no team".to_owned(),
        [team] => format!("team {team}"),
        teams => format!("teams {}", teams.join(", ")),
    }
}

async fn print_link(app: &App, config: &Config, member: &StaffMember) -> anyhow::Result<()> {
    let link = app.create_set_password_link(&operator(), member.id).await?;
    println!(
        "Send {} this link to set their password. It works once, until {}:\n\n  {}/staff/set-password/{}\n",
        member.name,
        link.expires_at
            .format(&time::format_description::well_known::Rfc2822)
            .context("formatting the expiry time")?,
        config
            .base_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080")
            .trim_end_matches('/'),
        link.token
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let root = Cli::command();
    let matches = match root.clone().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => match settings::explain(&error, &root) {
            Some(message) => {
                eprintln!("casework: {message}");
                return ExitCode::from(2);
            }
            None => error.exit(),
        },
    };
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    if let Err(error) = cli.config.read_secret_files(&matches) {
        eprintln!("casework: {error:#}");
        return ExitCode::FAILURE;
    }
    let telemetry = match telemetry::init(&cli.config) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("casework: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let code = match run(cli, &root, &matches).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("casework: {error:#}");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown().await;
    code
}

async fn run(
    cli: Cli,
    root: &clap::Command,
    matches: &clap::ArgMatches,
) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    let sub_matches = || {
        matches
            .subcommand()
            .map(|(_, sub_matches)| sub_matches)
            .context("the subcommand's settings")
    };
    match cli.command {
        Command::Serve {
            serving,
            sessions,
            metrics,
            mut hooks,
            mut channels,
            lifecycle,
            demo,
        } => {
            serving.check(&lifecycle)?;
            hooks.read_secret_files()?;
            channels.read_secret_files(sub_matches()?)?;
            let senders = channels.senders(demo)?;
            let process = serve::Process {
                metrics: &metrics,
                lifecycle: &lifecycle,
                senders,
            };
            serve::serve(&config, &serving, &sessions, process, hooks, demo).await?
        }
        Command::Worker {
            metrics,
            mut channels,
            lifecycle,
        } => {
            channels.read_secret_files(sub_matches()?)?;
            let senders = channels.senders(false)?;
            let process = serve::Process {
                metrics: &metrics,
                lifecycle: &lifecycle,
                senders,
            };
            serve::worker(&config, process).await?
        }
        Command::Config {
            serving,
            lifecycle,
            mut channels,
            ..
        } => {
            let (name, sub_matches) = matches
                .subcommand()
                .context("the config subcommand's settings")?;
            serving.check(&lifecycle)?;
            channels.read_secret_files(sub_matches)?;
            // Checked as `serve` would check them, without a demo's defaults.
            channels.senders(false)?;
            print!(
                "{}",
                settings::describe(root, name, sub_matches, &config, &channels)
            );
        }
        Command::Migrate => {
            config.app().await?;
            println!("The database is up to date.");
        }
        Command::Check { dir } => return Ok(check(dir.as_deref().unwrap_or(&config.services_dir))),
        Command::Apikey {
            command: ApikeyCommand::Create { name, role, scopes },
        } => {
            let app = config.app().await?;
            let key = app.create_scoped_api_key(&name, role, &scopes).await?;
            let scopes: Vec<&str> = key.key.scopes.iter().map(|s| s.as_str()).collect();
            println!(
                "API key \"{}\" ({}, for {}):\n\n  {}\n",
                key.key.name,
                key.key.role,
                scopes.join(" and "),
                key.secret
            );
            if key.key.scopes.contains(&KeyScope::Api) {
                println!("On the JSON API, send it as `Authorization: Bearer KEY`.");
            }
            if key.key.scopes.contains(&KeyScope::Open311) {
                println!("On Open311, send it as the api_key argument.");
            }
            println!("It is shown only this once.");
        }
        Command::User { command } => user(&config, command).await?,
        Command::Seed { cases, seed } => {
            let app = config.app().await?;
            let bar = ProgressBar::new(cases).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {per_sec}, {eta} left")
                    .context("progress bar template")?,
            );
            let started = Instant::now();
            app.seed_cases(cases, seed, |done| bar.set_position(done))
                .await?;
            bar.finish();
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "Seeded {cases} cases in {seconds:.1} s ({:.0} cases a second).",
                cases as f64 / seconds
            );
        }
        Command::Bench { command } => bench::run(&config, command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &std::path::Path) -> ExitCode {
    match load_services(dir) {
        Ok(services) => {
            for service in services.iter() {
                println!("{}: {} — ok", service.code, service.name);
            }
            println!("{} services, no problems.", services.len());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                println!("{problem}");
            }
            eprintln!("{} problems.", problems.len());
            ExitCode::FAILURE
        }
    }
}
