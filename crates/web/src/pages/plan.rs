//! A resident's shared plan, opened from the link they were sent: `/plan/{token}`.

use axum::http::StatusCode;
use axum::response::Response;

use super::resident::{ResidentLang, link_not_working};

/// Until plans are stored, no token opens one.
pub(crate) async fn show(lang: ResidentLang) -> Response {
    link_not_working(&lang, StatusCode::NOT_FOUND)
}
