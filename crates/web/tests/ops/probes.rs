use casework_app::domain::service::ServiceCatalogue;
use casework_store::testing::TestDatabase;
use casework_web::{Draining, WebConfig};

use crate::{app, get, serve, shipped_services};

async fn ready_when_migrated_with_services(db: &TestDatabase) {
    let address = serve(
        app(db.store().await, shipped_services()),
        &WebConfig::default(),
    )
    .await;
    assert_eq!(get(&format!("{address}/healthz")).await, (200, "ok".into()));
    assert_eq!(
        get(&format!("{address}/readyz")).await,
        (200, "ready".into())
    );
}

async fn not_ready_until_migrated(db: &TestDatabase) {
    let store = casework_store::connect(&db.url).await.unwrap();
    let address = serve(
        app(store.clone(), shipped_services()),
        &WebConfig::default(),
    )
    .await;
    let (status, text) = get(&format!("{address}/readyz")).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("schema is not up to date"), "{text}");
    // Alive all the same: restarting would not help.
    assert_eq!(get(&format!("{address}/healthz")).await.0, 200);

    store.migrate().await.unwrap();
    assert_eq!(
        get(&format!("{address}/readyz")).await,
        (200, "ready".into())
    );
}

async fn not_ready_without_services(db: &TestDatabase) {
    let none = ServiceCatalogue::new(Vec::new()).unwrap();
    let address = serve(app(db.store().await, none), &WebConfig::default()).await;
    let (status, text) = get(&format!("{address}/readyz")).await;
    assert_eq!(status, 503);
    assert!(text.contains("no services are loaded"), "{text}");
}

/// A stopping process turns unready first, and keeps answering while its connections drain,
/// each answer closing its connection.
async fn not_ready_while_draining_but_still_answering(db: &TestDatabase) {
    let draining = Draining::default();
    let config = WebConfig {
        draining: draining.clone(),
        ..WebConfig::default()
    };
    let address = serve(app(db.store().await, shipped_services()), &config).await;
    let client = reqwest::Client::new();
    let before = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);
    assert!(before.headers().get("connection").is_none());

    draining.start();
    let (status, text) = get(&format!("{address}/readyz")).await;
    assert_eq!((status, text.as_str()), (503, "not ready: stopping"));
    for path in ["/healthz", "/", "/api/v1/openapi.json", "/readyz"] {
        let response = client.get(format!("{address}{path}")).send().await.unwrap();
        let expected = if path == "/readyz" { 503 } else { 200 };
        assert_eq!(response.status(), expected, "{path}");
        assert_eq!(response.headers()["connection"], "close", "{path}");
    }
}

casework_store::backend_tests!(
    ready_when_migrated_with_services,
    not_ready_until_migrated,
    not_ready_without_services,
    not_ready_while_draining_but_still_answering,
);

/// PostgreSQL can go away under a running replica; a SQLite file cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_when_the_database_is_gone() {
    let db = TestDatabase::postgres().await;
    let address = serve(
        app(db.store().await, shipped_services()),
        &WebConfig::default(),
    )
    .await;
    assert_eq!(get(&format!("{address}/readyz")).await.0, 200);
    // Dropping the test database ends its connections and removes it.
    drop(db);
    let (status, text) = get(&format!("{address}/readyz")).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("the database does not answer"), "{text}");
    assert_eq!(get(&format!("{address}/healthz")).await.0, 200);
}
