//! SQLite: one file in WAL mode, one writer connection and a pool of readers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::Result;
use crate::connect::{ACQUIRE_TIMEOUT, bad_url, pool_size};
use crate::intake::impl_intake_store;
use crate::messages::impl_message_store;
use crate::open311::impl_open311_store;
use crate::plans::impl_plan_store;
use crate::replies::impl_reply_store;
use crate::shared::{Backend, claim_jobs_sql, impl_store, like_pattern};
use crate::webhooks::impl_webhook_store;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The writer's page cache, in KiB (negative: SQLite's unit for a size, not a page count).
/// Every insert touches a page of each of the cases table's indexes; SQLite's default of 2 MiB
/// holds too few of them once there are a million cases.
const WRITER_CACHE: &str = "-65536";

/// Pages of WAL after which the writer copies them into the database file, syncing it. The
/// default (1,000 pages, 4 MiB) syncs several times during each batch of a bulk import.
const WAL_AUTOCHECKPOINT: &str = "16384";

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite allows one writer at a time. All writes go through a pool of one connection, so they
/// queue in the application instead of fighting over the file lock, while WAL lets the readers
/// go on beside them.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (and creates, if missing) the database file that `url` names.
    pub async fn connect(url: &str) -> Result<Self> {
        let (url, readers) = pool_size(url)?;
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(bad_url(
                "an in-memory SQLite database cannot be shared by the writer and the readers: \
                 use a file",
            ));
        }
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| bad_url(e.to_string()))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .pragma("cache_size", WRITER_CACHE)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT)
                    // Statement journals in memory: every multi-row insert writes one.
                    .pragma("temp_store", "MEMORY"),
            )
            .await?;
        // query_only: a write through a reader would contend for the lock that the writer is
        // there to hold alone.
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        Ok(Self { writer, reader })
    }
}

impl Backend for SqliteStore {
    type Db = Sqlite;

    // The single writer claims: there are no concurrent claimers to lock out.
    const CLAIM_JOBS: &'static str = claim_jobs_sql!("");

    const MIGRATOR: &'static Migrator = &MIGRATOR;
    const TABLE_EXISTS: &'static str =
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1)";

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    // IMMEDIATE takes the write lock at the start. A deferred transaction that reads and then
    // writes fails at once with SQLITE_BUSY, busy timeout or not, if another process wrote in
    // between.
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    // The trigram index needs three characters; shorter text is looked for row by row.
    fn push_text_match(sql: &mut QueryBuilder<Sqlite>, text: &str) {
        if text.chars().count() >= 3 {
            let phrase = format!("\"{}\"", text.replace('"', "\"\""));
            sql.push("number IN (SELECT rowid FROM cases_search WHERE cases_search MATCH ")
                .push_bind(phrase)
                .push(")");
        } else {
            let pattern = like_pattern(text);
            let mut any = sql.separated(" OR ");
            for column in [
                "contact_name",
                "contact_email",
                "contact_phone",
                "description",
            ] {
                any.push(format_args!("{column} LIKE "))
                    .push_bind_unseparated(pattern.clone())
                    .push_unseparated(" ESCAPE '\\'");
            }
        }
    }

    // One IMMEDIATE transaction around the whole run: another process migrating at the same
    // time waits for it, then finds nothing left to do. (`run_direct` is what `run` calls once it
    // has a connection; `run` itself trips over rustc's "Acquire is not general enough" here.)
    async fn run_migrations(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        MIGRATOR.run_direct(None, &mut *tx, false).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl_store!(SqliteStore);
impl_plan_store!(SqliteStore);
impl_message_store!(SqliteStore);
impl_reply_store!(SqliteStore);
impl_open311_store!(SqliteStore);
impl_webhook_store!(SqliteStore);
impl_intake_store!(SqliteStore);
