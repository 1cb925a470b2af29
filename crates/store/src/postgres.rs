//! PostgreSQL: one pool, shared by the replicas' job claimers through row locks.

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, QueryBuilder, Transaction};

use crate::Result;
use crate::connect::{ACQUIRE_TIMEOUT, bad_url, pool_size};
use crate::intake::impl_intake_store;
use crate::messages::impl_message_store;
use crate::open311::impl_open311_store;
use crate::plans::impl_plan_store;
use crate::replies::impl_reply_store;
use crate::shared::{Backend, claim_jobs_sql, impl_store, like_pattern};
use crate::webhooks::impl_webhook_store;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database that `url` names, failing within a few seconds if it cannot.
    pub async fn connect(url: &str) -> Result<Self> {
        let (url, size) = pool_size(url)?;
        let options = PgConnectOptions::from_str(&url).map_err(|e| bad_url(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

impl Backend for PgStore {
    type Db = Postgres;

    // SKIP LOCKED: claimers in other processes pass over the rows one of them is claiming
    // instead of waiting for them, so no job is claimed twice and none waits behind another.
    const CLAIM_JOBS: &'static str = claim_jobs_sql!("FOR UPDATE SKIP LOCKED");

    const MIGRATOR: &'static Migrator = &MIGRATOR;
    const TABLE_EXISTS: &'static str = "SELECT to_regclass($1) IS NOT NULL";

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.pool.begin().await
    }

    // `search` is the lower-cased text, indexed by trigrams.
    fn push_text_match(sql: &mut QueryBuilder<Postgres>, text: &str) {
        sql.push("search LIKE lower(")
            .push_bind(like_pattern(text))
            .push(") ESCAPE '\\'");
    }

    // sqlx's migrator holds a session advisory lock while it runs, so migrators in several
    // processes take turns. It runs on a connection of its own, closed afterwards: if a
    // migration fails, the lock goes with the connection instead of staying with the pool.
    // (`run_direct` is what `run` calls once it has a connection; `run` itself trips over
    // rustc's "Acquire is not general enough" here.)
    async fn run_migrations(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?.detach();
        let migrated = MIGRATOR.run_direct(None, &mut conn, false).await;
        if let Err(error) = conn.close().await {
            tracing::warn!(%error, "closing the migration connection failed");
        }
        Ok(migrated?)
    }
}

impl_store!(PgStore);
impl_plan_store!(PgStore);
impl_message_store!(PgStore);
impl_reply_store!(PgStore);
impl_open311_store!(PgStore);
impl_webhook_store!(PgStore);
impl_intake_store!(PgStore);
