//! The operational endpoints, end to end: `/healthz`, `/readyz` and `/metrics`.

mod metrics;
mod probes;

use std::path::Path;
use std::sync::Arc;

use casework_app::domain::service::ServiceCatalogue;
use casework_app::store::Store;
use casework_app::{App, Features, load_calendar, load_services};
use casework_web::WebConfig;

/// Held while scraping: the job queue gauge is the process's, and each scrape sets it from its
/// own database.
pub static SCRAPES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn shipped_services() -> ServiceCatalogue {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    load_services(&root.join("services")).expect("the shipped services load")
}

/// Serves `app` on a random port and returns its address.
pub async fn serve(app: App, config: &WebConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = casework_web::router_with(app, config);
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

pub fn app(store: Arc<dyn Store>, services: ServiceCatalogue) -> App {
    App::new(
        store,
        services,
        load_calendar(None).unwrap(),
        Features::default(),
    )
}

/// The status and text of a GET.
pub async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}
