//! Fresh databases for tests, on either backend, removed when the test ends.
//!
//! PostgreSQL tests use the server at `CASEWORK_TEST_POSTGRES_URL` (by default
//! `postgres://postgres@127.0.0.1:5432/test`), where each test creates a database of its own. If
//! the server cannot be reached the test fails, saying so: a store that was never tested against
//! PostgreSQL must not look as if it passed.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::Store;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test: a temporary SQLite file, or a PostgreSQL database made
/// for it. Dropping it deletes the database.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(PathBuf),
    PgDatabase { server_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite file in a directory of its own under the system's temporary directory.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("casework-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory for SQLite");
        Self {
            url: format!("sqlite://{}", dir.join("casework.db").display()),
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// A new, empty database on the test PostgreSQL server.
    ///
    /// # Panics
    /// When the server cannot be reached or will not create the database.
    pub async fn postgres() -> Self {
        let server_url = std::env::var("CASEWORK_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("casework_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "the PostgreSQL server for tests is unreachable at {server_url} \
                 (set CASEWORK_TEST_POSTGRES_URL): {e}"
                )
            });
        // A name cannot be a bound parameter; this one is made here, of safe characters.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        let _ = admin.close().await;
        Self {
            url: with_database(&server_url, &name),
            cleanup: Cleanup::PgDatabase { server_url, name },
        }
    }

    /// Both backends: each store test runs on every one of these.
    pub async fn both() -> Vec<Self> {
        vec![Self::sqlite(), Self::postgres().await]
    }

    /// Which backend this is, for test messages.
    pub fn backend(&self) -> &'static str {
        match self.cleanup {
            Cleanup::Directory(_) => "sqlite",
            Cleanup::PgDatabase { .. } => "postgres",
        }
    }

    /// A store connected to this database, with the schema in place.
    pub async fn store(&self) -> Arc<dyn Store> {
        let store = crate::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrating {}: {e}", self.url));
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            // Drop cannot await, and may run inside a test's runtime, which must not be blocked
            // on itself: a thread with a runtime of its own drops the database, and the test
            // waits for it so that databases do not pile up. FORCE ends connections that the
            // test's pools still hold.
            Cleanup::PgDatabase { server_url, name } => {
                let (server, database) = (server_url.clone(), name.clone());
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async {
                        let mut admin = PgConnection::connect(&server).await?;
                        let sql = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
                        sqlx::query(AssertSqlSafe(sql)).execute(&mut admin).await?;
                        admin.close().await
                    })?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test database {name}: {dropped:?}");
                }
            }
        }
    }
}

/// `url` with its database name replaced by `name`, keeping its parameters.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Runs each named `async fn(&TestDatabase)` as a test on SQLite and on PostgreSQL, in modules
/// `sqlite` and `postgres`. The calling crate needs tokio with its `macros` feature.
#[macro_export]
macro_rules! backend_tests {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = $crate::testing::TestDatabase::sqlite();
                    super::$test(&db).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = $crate::testing::TestDatabase::postgres().await;
                    super::$test(&db).await;
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
