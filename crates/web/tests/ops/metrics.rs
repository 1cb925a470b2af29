use casework_store::NewJob;
use casework_store::testing::TestDatabase;
use casework_web::WebConfig;

use crate::{SCRAPES, app, get, serve, shipped_services};

/// The value of the series whose line starts with `series` (name and labels), if any.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_requests_by_route_and_times_them() {
    let db = TestDatabase::sqlite();
    let address = serve(
        app(db.store().await, shipped_services()),
        &WebConfig::default(),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(get(&format!("{address}/healthz")).await.0, 200);
    }
    assert_eq!(get(&format!("{address}/plan/some-token")).await.0, 404);
    assert_eq!(get(&format!("{address}/no/such/page")).await.0, 404);

    let _scrape = SCRAPES.lock().await;
    let (status, metrics) = get(&format!("{address}/metrics")).await;
    assert_eq!(status, 200);
    // Other tests in this process count their requests too: at least ours are there.
    let healthz = r#"http_requests_total{method="GET",route="/healthz",status="200"}"#;
    assert!(
        value(&metrics, healthz).is_some_and(|n| n >= 3.0),
        "{metrics}"
    );
    let plan = r#"http_requests_total{method="GET",route="/plan/{token}",status="404"}"#;
    assert!(value(&metrics, plan).is_some_and(|n| n >= 1.0), "{metrics}");
    let unmatched = r#"http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert!(
        value(&metrics, unmatched).is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert!(
        !metrics.contains("some-token") && !metrics.contains("/no/such"),
        "{metrics}"
    );
    let bucket = r#"http_request_duration_seconds_bucket{route="/healthz",le="+Inf"}"#;
    assert!(
        value(&metrics, bucket).is_some_and(|n| n >= 3.0),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE http_request_duration_seconds histogram"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_the_job_queue_when_scraped() {
    let db = TestDatabase::sqlite();
    let app = app(db.store().await, shipped_services());
    let address = serve(app.clone(), &WebConfig::default()).await;
    let later = app.now() + time::Duration::days(1);
    let jobs: Vec<NewJob> = (0..7)
        .map(|n| NewJob {
            kind: "sla_sweep".into(),
            payload: serde_json::json!({ "n": n }),
            run_at: later,
            key: None,
        })
        .collect();
    app.store().enqueue_jobs(&jobs).await.unwrap();
    let _scrape = SCRAPES.lock().await;
    let (_, metrics) = get(&format!("{address}/metrics")).await;
    assert!(
        metrics.contains("# TYPE casework_jobs_pending gauge"),
        "{metrics}"
    );
    assert_eq!(
        value(&metrics, "casework_jobs_pending "),
        Some(7.0),
        "{metrics}"
    );
    // The writer that stored the jobs is back in its pool, idle. Whether the reader that
    // counted them is back too when the gauges are read varies (sqlx returns a connection from a
    // task of its own), so the gauge of those in use is only there.
    let in_use = value(&metrics, "casework_db_connections{state=\"in_use\"} ");
    let idle = value(&metrics, "casework_db_connections{state=\"idle\"} ");
    assert!(in_use.is_some(), "{metrics}");
    assert!(idle.is_some_and(|n| n >= 1.0), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_left_off_the_public_router() {
    let db = TestDatabase::sqlite();
    let app = app(db.store().await, shipped_services());
    let config = WebConfig {
        metrics: false,
        ..WebConfig::default()
    };
    let address = serve(app.clone(), &config).await;
    assert_eq!(get(&format!("{address}/metrics")).await.0, 404);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_address = format!("http://{}", listener.local_addr().unwrap());
    let router = casework_web::metrics_router(app);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let _scrape = SCRAPES.lock().await;
    let (status, metrics) = get(&format!("{metrics_address}/metrics")).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("casework_jobs_pending"), "{metrics}");
}
