//! The `casework` binary as an operator uses it: check, migrate, apikey, seed, and
//! `serve --demo` answering over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use casework_store::testing::TestDatabase;

fn casework(database: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_casework"));
    command
        .current_dir(repository())
        .env("CASEWORK_DATABASE_URL", &database.url)
        .env("RUST_LOG", "warn");
    command
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn check_passes_the_shipped_services() {
    let database = TestDatabase::sqlite();
    let output = casework(&database)
        .args(["check", "services"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("4 services, no problems"),
        "{}",
        text(&output)
    );
}

#[test]
fn check_names_the_file_and_line_of_each_problem() {
    let database = TestDatabase::sqlite();
    let dir = std::env::temp_dir().join(format!("casework-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(repository().join("services/missed-bin.toml")).unwrap();
    let broken = good.replacen("to = \"collected\"", "to = \"colected\"", 1);
    assert_ne!(good, broken);
    std::fs::write(dir.join("missed-bin.toml"), &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("\"colected\""))
        .unwrap()
        + 1;
    let output = casework(&database).arg("check").arg(&dir).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!output.status.success());
    let printed = text(&output);
    let expected = format!("missed-bin.toml:{line}: ");
    assert!(
        printed.contains(&expected),
        "expected {expected} in:\n{printed}"
    );
    assert!(printed.contains("colected"), "{printed}");
}

#[test]
fn serve_refuses_an_invalid_definition() {
    let database = TestDatabase::sqlite();
    let dir = std::env::temp_dir().join(format!("casework-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.toml"), "code = \"broken\"\nname = 3\n").unwrap();
    let output = casework(&database)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CASEWORK_SERVICES_DIR", &dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!output.status.success());
    assert!(text(&output).contains("broken.toml:"), "{}", text(&output));
}

#[test]
fn a_wrong_setting_names_its_variable() {
    let database = TestDatabase::sqlite();
    for (variable, value) in [
        ("CASEWORK_FEATURES", "api,telepathy"),
        ("CASEWORK_LISTEN", "nonsense"),
        ("CASEWORK_BASE_URL", "casework.example.gov.uk"),
        ("CASEWORK_LOG_FORMAT", "xml"),
        ("CASEWORK_SESSION_IDLE_MINUTES", "0"),
        ("CASEWORK_METRICS_LISTEN", "everywhere"),
        ("CASEWORK_CLIENT_IP_HEADER", "X Forwarded"),
        ("CASEWORK_SHUTDOWN_DELAY", "soon"),
        ("CASEWORK_OTEL_ENDPOINT", "otel-collector:4318"),
        (
            "CASEWORK_OTEL_ENDPOINT",
            "http://otel-collector:4318/v1/traces",
        ),
        ("CASEWORK_OTEL_SERVICE_NAME", " "),
    ] {
        for command in ["serve", "config"] {
            let output = casework(&database)
                .arg(command)
                .env(variable, value)
                .output()
                .unwrap();
            assert!(!output.status.success(), "{variable}={value} {command}");
            assert!(
                text(&output).contains(variable),
                "{variable}={value} {command}: {}",
                text(&output)
            );
        }
    }
    // The drain delay counts within the grace period, so it must leave some of it.
    for command in ["serve", "config"] {
        let output = casework(&database)
            .arg(command)
            .env("CASEWORK_SHUTDOWN_DELAY", "30")
            .env("CASEWORK_SHUTDOWN_GRACE", "30")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{command}");
        let printed = text(&output);
        assert!(
            printed.contains("CASEWORK_SHUTDOWN_DELAY")
                && printed.contains("CASEWORK_SHUTDOWN_GRACE"),
            "{command}: {printed}"
        );
    }
}

#[test]
fn config_prints_every_setting_with_its_source_and_masks_secrets() {
    let output = Command::new(env!("CARGO_BIN_EXE_casework"))
        .arg("config")
        .env(
            "CASEWORK_DATABASE_URL",
            "postgres://casework:hunter2@db/casework",
        )
        .env("CASEWORK_LISTEN", "0.0.0.0:9000")
        .env(
            "CASEWORK_OTEL_ENDPOINT",
            "https://casework:hunter3@otel.example:4318",
        )
        .env_remove("CASEWORK_SESSION_IDLE_MINUTES")
        .env_remove("CASEWORK_OTEL_SERVICE_NAME")
        .output()
        .unwrap();
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(!printed.contains("hunter3"), "{printed}");
    let help = Command::new(env!("CARGO_BIN_EXE_casework"))
        .args(["serve", "--help"])
        .env(
            "CASEWORK_DATABASE_URL",
            "postgres://casework:hunter2@db/casework",
        )
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(!text(&help).contains("hunter2"), "{}", text(&help));
    let line = |variable: &str| {
        printed
            .lines()
            .find(|line| line.starts_with(&format!("{variable} ")))
            .unwrap_or_else(|| panic!("no {variable} in:\n{printed}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("CASEWORK_DATABASE_URL"),
        "CASEWORK_DATABASE_URL postgres://casework:********@db/casework (environment)"
    );
    assert_eq!(
        line("CASEWORK_LISTEN"),
        "CASEWORK_LISTEN 0.0.0.0:9000 (environment)"
    );
    assert_eq!(
        line("CASEWORK_SESSION_IDLE_MINUTES"),
        "CASEWORK_SESSION_IDLE_MINUTES 480 (default)"
    );
    for variable in [
        "CASEWORK_SERVICES_DIR",
        "CASEWORK_CLOSURE_DAYS_FILE",
        "CASEWORK_FEATURES",
        "CASEWORK_BASE_URL",
        "CASEWORK_LOG_FORMAT",
        "CASEWORK_NO_WORKER",
        "CASEWORK_SECURE_COOKIES",
        "CASEWORK_CLIENT_IP_HEADER",
        "CASEWORK_METRICS_LISTEN",
    ] {
        line(variable);
    }
    assert_eq!(
        line("CASEWORK_SHUTDOWN_DELAY"),
        "CASEWORK_SHUTDOWN_DELAY 5 (default)"
    );
    assert_eq!(
        line("CASEWORK_OTEL_ENDPOINT"),
        "CASEWORK_OTEL_ENDPOINT https://casework:********@otel.example:4318 (environment)"
    );
    assert_eq!(
        line("CASEWORK_OTEL_SERVICE_NAME"),
        "CASEWORK_OTEL_SERVICE_NAME casework (default)"
    );
}

#[test]
fn the_database_url_can_come_from_a_file() {
    let database = TestDatabase::sqlite();
    let dir = std::env::temp_dir().join(format!("casework-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("database-url");
    std::fs::write(&file, format!("{}\n", database.url)).unwrap();
    let from_file = |args: &[&str]| {
        casework(&database)
            .args(args)
            .env_remove("CASEWORK_DATABASE_URL")
            .env("CASEWORK_DATABASE_URL_FILE", &file)
            .output()
            .unwrap()
    };
    let migrated = from_file(&["migrate"]);
    let shown = from_file(&["config"]);
    // Both ways at once is a mistake to point out, not to settle silently.
    let both = casework(&database)
        .arg("migrate")
        .env("CASEWORK_DATABASE_URL_FILE", &file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(migrated.status.success(), "{}", text(&migrated));
    assert!(
        text(&shown).contains("(file in CASEWORK_DATABASE_URL_FILE"),
        "{}",
        text(&shown)
    );
    assert!(!both.status.success());
    assert!(text(&both).contains("both set"), "{}", text(&both));
}

/// The mixed benchmark runs every kind of request, residents' replies through the hooks among
/// them; what it measures is printed, not asserted.
#[test]
fn bench_mixed_sends_every_kind_and_files_replies_both_ways() {
    let database = TestDatabase::sqlite();
    let seeded = casework(&database)
        .args(["seed", "--cases", "100"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", text(&seeded));
    let output = casework(&database)
        .args(["bench", "mixed", "--seconds", "3", "--clients", "2"])
        .env_remove("CASEWORK_NOTIFY_CALLBACK_TOKEN")
        .env_remove("CASEWORK_INBOUND_EMAIL_TOKEN")
        .output()
        .unwrap();
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains(" 0 errors"), "{printed}");
    let count = |kind: &str| -> u64 {
        let line = printed
            .lines()
            .find(|line| line.starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} row in:\n{printed}"));
        line[kind.len()..]
            .split_whitespace()
            .next()
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("no count in {line:?}"))
    };
    for kind in [
        "staff page",
        "API read",
        "API write",
        "text reply",
        "email reply",
    ] {
        assert!(count(kind) > 0, "no {kind} in:\n{printed}");
    }
    let replies = printed
        .lines()
        .find_map(|line| line.strip_prefix("replies: "))
        .unwrap_or_else(|| panic!("no replies line in:\n{printed}"));
    let numbers: Vec<u64> = replies
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 2, "{replies}");
    assert!(numbers[0] > 0, "no reply found its case: {replies}");
    assert!(numbers[1] > 0, "no reply from an unknown sender: {replies}");
    assert_eq!(
        numbers[0] + numbers[1],
        count("text reply") + count("email reply"),
        "{printed}"
    );

    // Replicas elsewhere were started with their own tokens, which the bench must be given.
    let refused = casework(&database)
        .args([
            "bench",
            "mixed",
            "--url",
            "http://127.0.0.1:9",
            "--seconds",
            "1",
        ])
        .env_remove("CASEWORK_NOTIFY_CALLBACK_TOKEN")
        .env_remove("CASEWORK_INBOUND_EMAIL_TOKEN")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("CASEWORK_NOTIFY_CALLBACK_TOKEN"),
        "{}",
        text(&refused)
    );
}

#[test]
fn migrate_apikey_and_seed_work_on_a_new_database() {
    let database = TestDatabase::sqlite();
    for args in [&["migrate"][..], &["migrate"]] {
        let output = casework(&database).args(args).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    let output = casework(&database)
        .args(["apikey", "create", "--name", "civica", "--role", "lead"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("cw_"));
    assert!(text(&output).contains("for api"), "{}", text(&output));
    let output = casework(&database)
        .args([
            "apikey",
            "add",
            "--name",
            "fixmystreet",
            "--scope",
            "open311",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("for open311"), "{}", text(&output));
    assert!(text(&output).contains("api_key"), "{}", text(&output));
    let output = casework(&database)
        .args(["apikey", "add", "--name", "x", "--scope", "everything"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let output = casework(&database)
        .args(["seed", "--cases", "120"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("Seeded 120 cases"),
        "{}",
        text(&output)
    );
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_demo_answers_with_demo_cases() {
    let database = TestDatabase::sqlite();
    let mut server = Server(
        casework(&database)
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(server.0.stdout.take().unwrap());
    let (mut key, mut url, mut staff) = (None, None, Vec::new());
    for line in stdout.lines() {
        let line = line.unwrap();
        let line = line.trim();
        if line.starts_with("cw_") {
            key = Some(line.to_owned());
        }
        // "agent@example.com    password: abcd-efgh-jkmn-pqrs   (agent)"
        if let Some((email, rest)) = line.split_once(" password: ") {
            let password = rest.split_whitespace().next().unwrap();
            staff.push((email.trim().to_owned(), password.to_owned()));
        }
        if let Some(at) = line.strip_prefix("Casework is serving 4 services at ") {
            url = Some(at.to_owned());
            break;
        }
    }
    let (key, url) = (
        key.expect("a demo key is printed"),
        url.expect("the address is printed"),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let cases: serde_json::Value = client
        .get(format!("{url}/api/v1/cases?limit=200"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 200);
    let services: std::collections::BTreeSet<&str> = cases
        .iter()
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        services.len(),
        4,
        "demo cases span the services: {services:?}"
    );
    assert!(cases.iter().any(|c| c["open"] == false) && cases.iter().any(|c| c["open"] == true));

    // A newcomer signs in with the printed details.
    let emails: Vec<&str> = staff.iter().map(|(email, _)| email.as_str()).collect();
    assert_eq!(
        emails,
        ["agent@example.com", "lead@example.com", "admin@example.com"]
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for (email, password) in &staff {
        let form = format!("email={}&password={password}", email.replace('@', "%40"));
        let signed_in = browser
            .post(format!("{url}/staff/sign-in"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303, "{email}");
        assert_eq!(signed_in.headers()["location"], "/staff");
    }
}

#[test]
fn user_add_prints_a_one_time_link_and_deactivate_stops_sign_in() {
    let database = TestDatabase::sqlite();
    let output = casework(&database)
        .args([
            "user",
            "add",
            "--email",
            "Jo@Example.com",
            "--name",
            "Jo Bloggs",
            "--role",
            "lead",
            "--team",
            "waste",
            "--team",
            "repairs",
        ])
        .env("CASEWORK_BASE_URL", "https://casework.example.gov.uk/")
        .output()
        .unwrap();
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");
    assert!(
        printed.contains("Added Jo Bloggs <jo@example.com>, lead in teams repairs, waste."),
        "{printed}"
    );
    assert!(
        printed.contains("https://casework.example.gov.uk/staff/set-password/"),
        "{printed}"
    );

    let output = casework(&database)
        .args([
            "user",
            "add",
            "--email",
            "kim@example.com",
            "--name",
            "Kim",
            "--role",
            "agent",
        ])
        .args(["--team", "parks", "--password", "short"])
        .output()
        .unwrap();
    let printed = text(&output);
    assert!(!output.status.success());
    assert!(printed.contains("There is no team \"parks\""), "{printed}");
    assert!(printed.contains("12 characters"), "{printed}");

    let output = casework(&database)
        .args(["user", "deactivate", "--email", "jo@example.com"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let output = casework(&database)
        .args(["user", "link", "--email", "jo@example.com"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text(&output).contains("deactivated"), "{}", text(&output));
}

#[tokio::test]
async fn metrics_listen_serves_metrics_apart_with_the_worker_s_runs() {
    let database = TestDatabase::sqlite();
    let mut server = Server(
        casework(&database)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("CASEWORK_METRICS_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(server.0.stdout.take().unwrap());
    let (mut metrics, mut url) = (None, None);
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(at) = line.strip_prefix("Metrics at ") {
            metrics = Some(at.to_owned());
        }
        if let Some(at) = line.strip_prefix("Casework is serving 4 services at ") {
            url = Some(at.to_owned());
            break;
        }
    }
    let (metrics, url) = (
        metrics.expect("the metrics address"),
        url.expect("the address"),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let public = client.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    assert_eq!(
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The worker sweeps for SLA breaches as soon as it starts.
    let mut scraped = String::new();
    for _ in 0..50 {
        scraped = client
            .get(&metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if scraped.contains(r#"casework_job_runs_total{kind="sla_sweep",outcome="later"}"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for series in [
        r#"casework_job_runs_total{kind="sla_sweep",outcome="later"}"#,
        r#"http_requests_total{method="GET",route="/readyz",status="200"} 1"#,
        "casework_jobs_pending ",
        "casework_sla_breaches_total 0",
    ] {
        assert!(scraped.contains(series), "no {series} in:\n{scraped}");
    }
}
