//! What the web crate's test binaries share: the app over a fresh database with the shipped
//! services, the real server on a random port, and a macro that runs each test on SQLite and on
//! PostgreSQL. Behind the `testing` feature, as the store's `testing` module is.

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use casework_app::domain::case::Actor;
use casework_app::domain::service::Role;
use casework_app::{App, Caller, Features, load_calendar, load_services};
pub use casework_store::testing::TestDatabase;

/// The app over `database`, migrated, with the services in the repository's `services` folder
/// and the England and Wales calendar.
pub async fn app(database: &TestDatabase, features: Features) -> App {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let services = load_services(&root.join("services")).expect("the shipped services load");
    let calendar = load_calendar(None).expect("the calendar loads");
    App::new(database.store().await, services, calendar, features)
}

/// Serves `router` on a random local port until the test ends, and returns its address.
pub async fn serve(router: Router) -> String {
    let (listener, address) = listen().await;
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// Serves `router` as `casework serve` does, telling handlers each connection's address (which
/// the sign-in limits count failures against), and returns its address.
pub async fn serve_with_client_addresses(router: Router) -> String {
    let (listener, address) = listen().await;
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    address
}

async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("a bound port"));
    (listener, address)
}

/// The system, for setting up what a test needs without going through a page or the API.
pub fn system() -> Caller {
    Caller {
        actor: Actor::System,
        role: Role::Admin,
        api_key_id: None,
        teams: None,
    }
}

/// Runs each test body once on SQLite and once on PostgreSQL, as two tests, each with the
/// `TestApp` that the calling test binary's `helpers::spawn_app` makes for the database.
#[macro_export]
#[allow(
    clippy::crate_in_macro_def,
    reason = "`crate::helpers` is the calling test binary's own, which makes its `TestApp`"
)]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: crate::helpers::TestApp) $body
            #[tokio::test]
            async fn sqlite() {
                let database = $crate::testing::TestDatabase::sqlite();
                run(crate::helpers::spawn_app(database).await).await
            }
            #[tokio::test]
            async fn postgres() {
                let database = $crate::testing::TestDatabase::postgres().await;
                run(crate::helpers::spawn_app(database).await).await
            }
        }
    )*};
}
