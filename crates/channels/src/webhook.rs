//! Posts one webhook delivery: a signed JSON body to another system's endpoint.
//!
//! The caller has already resolved the endpoint's host and checked the addresses; the request is
//! pinned to exactly those addresses, so that a second DNS answer cannot send it elsewhere, and
//! it follows no redirect and no proxy for the same reason. Retrying is the outbox's job.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::redirect::Policy;

/// One delivery attempt's request.
#[derive(Debug, Clone)]
pub struct WebhookPost<'a> {
    pub url: &'a str,
    /// The host name in `url`, and the addresses it resolved to, to connect to and no other.
    pub host: &'a str,
    pub addresses: &'a [SocketAddr],
    /// Headers besides the content type, such as the signature.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

/// Why an attempt got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookPostError {
    #[error("the endpoint did not answer in time")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the request could not be made: {0}")]
    Request(String),
}

/// Posts the delivery and answers the HTTP status the endpoint gave.
pub async fn post_webhook(post: WebhookPost<'_>) -> Result<u16, WebhookPostError> {
    let client = reqwest::Client::builder()
        .timeout(post.timeout)
        .redirect(Policy::none())
        .no_proxy()
        .resolve_to_addrs(post.host, post.addresses)
        .user_agent(concat!("casework-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WebhookPostError::Request(e.to_string()))?;
    let mut request = client
        .post(post.url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in post.headers {
        request = request.header(name, value);
    }
    let response = request.body(post.body).send().await.map_err(|e| {
        if e.is_timeout() {
            WebhookPostError::Timeout
        } else if e.is_connect() {
            WebhookPostError::Connect(without_url(&e))
        } else {
            WebhookPostError::Request(without_url(&e))
        }
    })?;
    Ok(response.status().as_u16())
}

/// The error without the URL, which is already on the delivery and may carry a token in its
/// query.
fn without_url(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}
