//! Choosing the backend from the database URL.

use std::sync::Arc;
use std::time::Duration;

use crate::{PgStore, Result, SqliteStore, Store, StoreError};

/// Connects to the database the URL names: `sqlite:PATH` (or `sqlite://PATH`) or
/// `postgres://…` (or `postgresql://…`). A `max_connections` parameter sets the pool's size (on
/// SQLite, the readers'; it always has one writer).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        // Only the scheme: the rest may hold a password.
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        Err(bad_url(format!(
            "unsupported database URL scheme {scheme:?}: \
             use sqlite:PATH or postgres://HOST/DATABASE"
        )))
    }
}

/// How long to wait for a connection before calling the database unavailable: a dead database
/// should give an error soon, not a hang.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) fn bad_url(message: impl Into<String>) -> StoreError {
    StoreError::Database(sqlx::Error::Configuration(message.into().into()))
}

/// The URL without its `max_connections` parameter (which sqlx does not know), and that
/// parameter's value or a default that suits the machine.
pub(crate) fn pool_size(url: &str) -> Result<(String, u32)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), default_pool_size()));
    };
    let mut size = default_pool_size();
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("max_connections=") {
            Some(value) => {
                size = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    bad_url(format!(
                        "max_connections must be a positive number, not {value:?}"
                    ))
                })?;
            }
            None => kept.push(pair),
        }
    }
    Ok(match kept.is_empty() {
        true => (base.to_owned(), size),
        false => (format!("{base}?{}", kept.join("&")), size),
    })
}

/// Enough connections to keep every core busy while others wait on I/O.
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores * 2 + 2).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_size_comes_out_of_the_url() {
        let (url, size) = pool_size("postgres://h/db?max_connections=7&sslmode=disable").unwrap();
        assert_eq!((url.as_str(), size), ("postgres://h/db?sslmode=disable", 7));
        let (url, size) = pool_size("sqlite:x.db?max_connections=3").unwrap();
        assert_eq!((url.as_str(), size), ("sqlite:x.db", 3));
        let (url, size) = pool_size("sqlite:x.db").unwrap();
        assert_eq!((url.as_str(), size), ("sqlite:x.db", default_pool_size()));
        assert!(pool_size("sqlite:x.db?max_connections=none").is_err());
    }
}
