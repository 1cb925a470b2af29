//! The pages' CSS, JavaScript, fonts and images, built by `build.rs` from npm packages and
//! embedded in the binary. They are served under `/assets/{version}/`, where the version is a
//! hash of their content: a page always asks for the version it was built with, so browsers
//! may keep a copy for a year without ever showing a stale one.

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where pages find the assets: `/assets/` and the version of this build.
pub(crate) const PREFIX: &str = concat!("/assets/", env!("CASEWORK_ASSETS_VERSION"));
const VERSION: &str = env!("CASEWORK_ASSETS_VERSION");

#[derive(rust_embed::Embed)]
#[folder = "$OUT_DIR/assets"]
struct Files;

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{version}/{*path}", get(asset))
}

async fn asset(Path((version, path)): Path<(String, String)>) -> Response {
    let (Some(file), Some(content_type)) = (Files::get(&path), content_type(&path)) else {
        return (StatusCode::NOT_FOUND, "There is no such file").into_response();
    };
    // Another version is asked for by a page from another build, such as one served by a
    // replica not yet upgraded: it gets this build's file, but must not keep it for long.
    let cache = if version == VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let body: Cow<'static, [u8]> = file.data;
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response()
}

/// The types of the files `build.rs` copies; anything else is not served.
fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1;
    Some(match extension {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => return None,
    })
}
