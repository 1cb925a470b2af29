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
    let output = casework(&database)
        .arg("migrate")
        .env("CASEWORK_FEATURES", "api,telepathy")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("CASEWORK_FEATURES"),
        "{}",
        text(&output)
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
