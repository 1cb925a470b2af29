//! The one implementation of [`Store`](crate::Store) that both backends share.
//!
//! Both databases accept the same SQL here (`$1` placeholders, `RETURNING`, `ON CONFLICT`, row
//! values), and [`DbTime`](crate::db_time::DbTime) makes their instants one Rust type, so the
//! queries and row structs are written once. sqlx's traits make code generic over its databases
//! hard to write and harder to read, so [`impl_store!`] expands the same body for each backend's
//! concrete types instead. What differs between the backends is [`Backend`], and nothing else.

use std::future::Future;

use casework_domain::case::{Case, EventKind, NewCase};
use sqlx::migrate::{AppliedMigration, Migrator};
use sqlx::{Pool, QueryBuilder, Transaction};
use time::OffsetDateTime;

use crate::{CaseSort, Result};

/// What SQLite and PostgreSQL do differently.
pub(crate) trait Backend {
    type Db: sqlx::Database;

    /// The statement that claims due jobs, from [`claim_jobs_sql!`].
    const CLAIM_JOBS: &'static str;

    fn reader(&self) -> &Pool<Self::Db>;
    fn writer(&self) -> &Pool<Self::Db>;
    /// Starts a transaction that will write.
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Self::Db>>> + Send;
    /// Adds a condition: the contact's name, email or phone, or the description, contains `text`
    /// in any case.
    fn push_text_match(sql: &mut QueryBuilder<Self::Db>, text: &str);
    /// The migrations embedded in this build.
    const MIGRATOR: &'static Migrator;
    /// Answers (`$1`: a table's name) whether the table exists, as one boolean-ish value.
    const TABLE_EXISTS: &'static str;
    /// Runs the embedded migrations, safely when several processes do it at once.
    fn run_migrations(&self) -> impl Future<Output = Result<()>> + Send;
}

/// Compares `applied` (with the one that `failed`, if any) with the migrations `migrator` holds.
pub(crate) fn schema_status(
    migrator: &Migrator,
    applied: &[AppliedMigration],
    failed: Option<i64>,
) -> crate::SchemaStatus {
    let mut status = crate::SchemaStatus {
        failed,
        ..Default::default()
    };
    for migration in migrator.iter() {
        if migration.migration_type.is_down_migration() {
            continue;
        }
        match applied.iter().find(|a| a.version == migration.version) {
            Some(a) if a.checksum != migration.checksum => status.changed.push(migration.version),
            Some(_) => {}
            None => status.pending.push(migration.version),
        }
    }
    status.newer = applied
        .iter()
        .map(|a| a.version)
        .filter(|version| !migrator.version_exists(*version))
        .collect();
    status
}

/// Claims up to `$4` jobs due at `$3` for worker `$1` until `$2`. `$lock` is what keeps two
/// claimers from taking the same job, where the database needs it.
macro_rules! claim_jobs_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 ",
            "WHERE id IN (SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= $3 ",
            "AND (locked_until IS NULL OR locked_until <= $3) ",
            "ORDER BY run_at, id LIMIT $4 ",
            $lock,
            ") RETURNING id, kind, payload, run_at, attempts, last_error"
        )
    };
}
pub(crate) use claim_jobs_sql;

/// The most values one statement binds: SQLite's limit, below PostgreSQL's 65,535.
pub(crate) const MAX_PARAMS: usize = 32_766;

/// The columns a new case is inserted with, in the order `push_new_cases` binds them.
pub(crate) const NEW_CASE_COLUMNS: &str = "service, state, open, priority, priority_rank, team, \
     contact_name, contact_email, contact_phone, preferred_channel, language, answers, \
     description, lat, long, address, external_system, external_reference, sla_due_at, \
     created_at, updated_at, closed_at, version";
/// How many of [`NEW_CASE_COLUMNS`] take a bound value: `version` is a literal.
pub(crate) const NEW_CASE_PARAMS: usize = 22;

/// A `LIKE` pattern matching `text` anywhere, with `\` as the escape character.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How a list in one [`CaseSort`] is ordered, and how the rows after a cursor compare: by
/// `columns`, then by number, all in one direction so that a row value compares them at once.
pub(crate) struct Keyset {
    pub(crate) columns: &'static [&'static str],
    pub(crate) order: &'static str,
    pub(crate) after: &'static str,
}

impl Keyset {
    pub(crate) fn of(sort: CaseSort) -> Self {
        let (columns, order, after): (&'static [&'static str], _, _) = match sort {
            CaseSort::Due => (&["sla_due_at"], "ASC", ">"),
            CaseSort::Updated => (&["updated_at"], "DESC", "<"),
            CaseSort::Created => (&["created_at"], "DESC", "<"),
            CaseSort::Priority => (&["priority_rank", "sla_due_at"], "ASC", ">"),
        };
        Self {
            columns,
            order,
            after,
        }
    }

    /// `ORDER BY` and what follows it, up to the limit.
    pub(crate) fn order_by(&self) -> String {
        let order = self.order;
        let mut sql = String::from(" ORDER BY ");
        for column in self.columns {
            sql.push_str(&format!("{column} {order}, "));
        }
        sql.push_str(&format!("number {order}"));
        sql
    }
}

/// The instant a case is sorted by in `sort`.
pub(crate) fn sort_key(case: &Case, sort: CaseSort) -> OffsetDateTime {
    match sort {
        CaseSort::Due | CaseSort::Priority => case.sla_due_at,
        CaseSort::Updated => case.updated_at,
        CaseSort::Created => case.created_at,
    }
}

/// The event that opens an imported case's timeline.
pub(crate) fn created_event(case: &NewCase) -> EventKind {
    EventKind::Created {
        state: case.state.clone(),
        priority: case.priority.clone(),
        external: case.external.clone(),
        via: None,
    }
}

/// Implements [`Store`](crate::Store) for `$store`, a [`Backend`].
macro_rules! impl_store {
    ($store:ident) => {
        mod shared_impl {
            use async_trait::async_trait;
            use casework_domain::case::{Actor, Case, EventKind, NewCase, Reference};
            use casework_domain::service::Role;
            use sqlx::types::Json;
            use sqlx::QueryBuilder;
            use time::OffsetDateTime;

            use super::$store;
            use super::plan_impl::insert_plans;
            use super::webhook_impl::insert_deliveries;
            use $crate::db_time::DbTime;
            use $crate::rows::{
                ApiKeyRow, CaseRow, EventRow, FailedJobRow, JobRow, SessionRow, StaffRow,
                case_columns, staff_columns,
            };
            use $crate::shared::{
                Backend, Keyset, MAX_PARAMS, NEW_CASE_COLUMNS, NEW_CASE_PARAMS, created_event,
                sort_key,
            };
            use $crate::{
                ApiKey, Assignee, CaseFilter, CasePage, CaseQuery, CaseSort, Cursor, Event,
                FailedJob, IdempotencyClaim, Job, NewJob, NewStaff, PriorityRank, Result,
                SessionRecord, Staff, Store, StoreError, Team,
            };

            type Db = <$store as Backend>::Db;
            type Conn = <Db as sqlx::Database>::Connection;

            #[async_trait]
            impl Store for $store {
                async fn migrate(&self) -> Result<()> {
                    self.run_migrations().await
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1").execute(self.reader()).await?;
                    Ok(())
                }

                fn pool_use(&self) -> crate::PoolUse {
                    // PostgreSQL reads and writes through one pool; SQLite has a writer apart.
                    let pools = if std::ptr::eq(self.reader(), self.writer()) {
                        vec![self.reader()]
                    } else {
                        vec![self.reader(), self.writer()]
                    };
                    pools.into_iter().fold(crate::PoolUse::default(), |total, pool| crate::PoolUse {
                        open: total.open + pool.size(),
                        idle: total.idle + u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                    })
                }

                async fn schema_status(&self) -> Result<crate::SchemaStatus> {
                    use sqlx::migrate::Migrate;
                    let migrator = <$store as Backend>::MIGRATOR;
                    let mut conn = self.reader().acquire().await?;
                    // Before the first migration there is no table to read, and a probe must not
                    // create it.
                    let exists: bool = sqlx::query_scalar(<$store as Backend>::TABLE_EXISTS)
                        .bind(migrator.table_name.as_ref())
                        .fetch_one(&mut *conn)
                        .await?;
                    if !exists {
                        return Ok($crate::shared::schema_status(migrator, &[], None));
                    }
                    let failed = conn.dirty_version(&migrator.table_name).await?;
                    let applied = conn.list_applied_migrations(&migrator.table_name).await?;
                    Ok($crate::shared::schema_status(migrator, &applied, failed))
                }

                async fn insert_case(
                    &self,
                    case: &NewCase,
                    actor: &Actor,
                    events: &[EventKind],
                    jobs: &[NewJob],
                    idempotency: Option<&IdempotencyClaim>,
                ) -> Result<Case> {
                    let mut tx = self.begin_write().await?;
                    if let Some(claim) = idempotency
                        && let Some(replay) = idempotency_replay(&mut tx, claim).await?
                    {
                        return Err(replay);
                    }
                    let mut sql = QueryBuilder::new("");
                    push_new_cases(&mut sql, std::slice::from_ref(case));
                    sql.push(concat!(
                        " ON CONFLICT (external_system, external_reference)",
                        " WHERE external_system IS NOT NULL DO NOTHING RETURNING ",
                        case_columns!()
                    ));
                    let inserted = sql.build_query_as::<CaseRow>().fetch_optional(&mut *tx).await?;
                    let Some(row) = inserted else {
                        return Err(external_taken(&mut tx, case, idempotency).await?);
                    };
                    let created_at = DbTime::from(case.created_at);
                    if let Some(claim) = idempotency {
                        record_idempotency(&mut tx, claim, row.number, created_at).await?;
                    }
                    let events: Vec<_> =
                        events.iter().map(|event| (row.number, created_at, event)).collect();
                    insert_events(&mut tx, actor, &events).await?;
                    insert_plans(
                        &mut tx,
                        &[(Reference::new(row.number), &case.plan, created_at)],
                    )
                    .await?;
                    upsert_jobs(&mut tx, jobs).await?;
                    tx.commit().await?;
                    row.try_into()
                }

                async fn import_cases(&self, cases: &[NewCase], actor: &Actor) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    for batch in cases.chunks(MAX_PARAMS / NEW_CASE_PARAMS) {
                        let mut sql = QueryBuilder::new("");
                        push_new_cases(&mut sql, batch);
                        sql.push(" RETURNING number");
                        let mut numbers: Vec<i64> =
                            sql.build_query_scalar().fetch_all(&mut *tx).await?;
                        // Numbers are drawn in the order of the VALUES, though RETURNING may list
                        // them in any order.
                        numbers.sort_unstable();
                        let created: Vec<EventKind> = batch.iter().map(created_event).collect();
                        let events: Vec<_> = numbers
                            .iter()
                            .zip(batch)
                            .zip(&created)
                            .map(|((number, case), event)| {
                                (*number, DbTime::from(case.created_at), event)
                            })
                            .collect();
                        insert_events(&mut tx, actor, &events).await?;
                        let plans: Vec<_> = numbers
                            .iter()
                            .zip(batch)
                            .map(|(number, case)| {
                                (
                                    Reference::new(*number),
                                    &case.plan,
                                    DbTime::from(case.created_at),
                                )
                            })
                            .collect();
                        insert_plans(&mut tx, &plans).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn update_case(
                    &self,
                    case: &Case,
                    actor: &Actor,
                    events: &[EventKind],
                    jobs: &[NewJob],
                ) -> Result<Case> {
                    let mut tx = self.begin_write().await?;
                    let row = save_case(&mut tx, case, actor, events).await?;
                    upsert_jobs(&mut tx, jobs).await?;
                    tx.commit().await?;
                    row.try_into()
                }

                async fn case(&self, reference: Reference) -> Result<Option<Case>> {
                    case_row(self.reader(), reference)
                        .await?
                        .map(Case::try_from)
                        .transpose()
                }

                async fn rank_priorities(&self, ranks: &[PriorityRank]) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let applied: Vec<(String, String, i32)> =
                        sqlx::query_as("SELECT service, priority, rank FROM priority_ranks")
                            .fetch_all(&mut *tx)
                            .await?;
                    let changed: Vec<&PriorityRank> = ranks
                        .iter()
                        .filter(|r| {
                            !applied.iter().any(|(service, priority, rank)| {
                                *service == r.service && *priority == r.priority && *rank == r.rank
                            })
                        })
                        .collect();
                    let mut ranked = 0;
                    for batch in changed.chunks(MAX_PARAMS / 3) {
                        let mut sql =
                            QueryBuilder::new("WITH ranks (service, priority, rank) AS (");
                        sql.push_values(batch, |mut row, rank| {
                            row.push_bind(rank.service.as_str())
                                .push_bind(rank.priority.as_str())
                                .push_bind(rank.rank);
                        });
                        // One pass over the cases, writing only those whose rank moved.
                        sql.push(
                            ") UPDATE cases SET priority_rank = ranks.rank FROM ranks \
                             WHERE cases.service = ranks.service \
                             AND cases.priority = ranks.priority \
                             AND cases.priority_rank <> ranks.rank",
                        );
                        ranked += sql.build().execute(&mut *tx).await?.rows_affected();

                        let mut sql = QueryBuilder::new(
                            "INSERT INTO priority_ranks (service, priority, rank) ",
                        );
                        sql.push_values(batch, |mut row, rank| {
                            row.push_bind(rank.service.as_str())
                                .push_bind(rank.priority.as_str())
                                .push_bind(rank.rank);
                        });
                        sql.push(
                            " ON CONFLICT (service, priority) DO UPDATE SET rank = excluded.rank",
                        );
                        sql.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(ranked)
                }

                async fn list_cases(&self, query: &CaseQuery) -> Result<CasePage> {
                    let limit = query.limit.max(1);
                    let mut sql = QueryBuilder::new(concat!(
                        "SELECT ",
                        case_columns!(),
                        " FROM cases WHERE TRUE"
                    ));
                    push_filter(&mut sql, &query.filter);
                    // Always true, and a hint: without it SQLite's planner, which has no
                    // statistics, serves `team IN (..)` from the team-and-due index and reads every
                    // matching case to learn its rank before sorting. With a bound on the rank it
                    // takes the team-and-rank index, and sorts the page from the index alone.
                    if query.sort == CaseSort::Priority {
                        sql.push(" AND priority_rank >= 0");
                    }
                    // A cursor from another order means nothing in this one: start at the top.
                    if let Some(cursor) = query.after.as_ref().filter(|c| c.sort == query.sort) {
                        push_after(&mut sql, cursor)?;
                    }
                    sql.push(Keyset::of(query.sort).order_by())
                        .push(" LIMIT ")
                        .push_bind(i64::from(limit) + 1);
                    let mut rows = sql.build_query_as::<CaseRow>().fetch_all(self.reader()).await?;
                    let more = rows.len() > limit as usize;
                    rows.truncate(limit as usize);
                    let cases = rows
                        .into_iter()
                        .map(Case::try_from)
                        .collect::<Result<Vec<_>>>()?;
                    let next = cases.last().filter(|_| more).map(|last| Cursor {
                        sort: query.sort,
                        rank: (query.sort == CaseSort::Priority).then_some(last.priority_rank),
                        key: DbTime::from(sort_key(last, query.sort)).micros(),
                        reference: last.reference.number(),
                    });
                    Ok(CasePage { cases, next })
                }

                async fn count_cases(&self, filter: &CaseFilter) -> Result<i64> {
                    let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM cases WHERE TRUE");
                    push_filter(&mut sql, filter);
                    Ok(sql.build_query_scalar().fetch_one(self.reader()).await?)
                }

                async fn count_cases_up_to(&self, filter: &CaseFilter, limit: i64) -> Result<i64> {
                    let mut sql =
                        QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE TRUE");
                    push_filter(&mut sql, filter);
                    sql.push(" LIMIT ").push_bind(limit).push(") AS counted");
                    Ok(sql.build_query_scalar().fetch_one(self.reader()).await?)
                }

                async fn events(&self, reference: Reference) -> Result<Vec<Event>> {
                    sqlx::query_as::<_, EventRow>(
                        "SELECT id, case_number, at, actor, data FROM events \
                         WHERE case_number = $1 ORDER BY id",
                    )
                    .bind(reference.number())
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(Event::try_from)
                    .collect()
                }

                async fn idempotent_case(
                    &self,
                    api_key_id: i64,
                    key: &str,
                ) -> Result<Option<(String, Reference)>> {
                    idempotency_row(self.reader(), api_key_id, key).await
                }

                async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<()> {
                    if jobs.is_empty() {
                        return Ok(());
                    }
                    let mut tx = self.begin_write().await?;
                    upsert_jobs(&mut tx, jobs).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn claim_jobs(
                    &self,
                    worker: &str,
                    now: OffsetDateTime,
                    lease_until: OffsetDateTime,
                    limit: u32,
                ) -> Result<Vec<Job>> {
                    let rows = sqlx::query_as::<_, JobRow>(Self::CLAIM_JOBS)
                        .bind(worker)
                        .bind(DbTime::from(lease_until))
                        .bind(DbTime::from(now))
                        .bind(i64::from(limit))
                        .fetch_all(self.writer())
                        .await?;
                    let mut jobs: Vec<Job> = rows.into_iter().map(Job::from).collect();
                    jobs.sort_by_key(|job| (job.run_at, job.id));
                    Ok(jobs)
                }

                // Each of these four acts only on a job still claimed: rescheduling a job by its
                // key while it runs clears its claim, and the new schedule must outlive the old
                // run's outcome.
                async fn complete_job(&self, id: i64) -> Result<()> {
                    sqlx::query("DELETE FROM jobs WHERE id = $1 AND locked_by IS NOT NULL")
                        .bind(id)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn reschedule_job(&self, id: i64, run_at: OffsetDateTime) -> Result<()> {
                    sqlx::query(
                        "UPDATE jobs SET run_at = $2, attempts = attempts - 1, locked_by = NULL, \
                         locked_until = NULL WHERE id = $1 AND locked_by IS NOT NULL",
                    )
                    .bind(id)
                    .bind(DbTime::from(run_at))
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn retry_job(
                    &self,
                    id: i64,
                    error: &str,
                    run_at: OffsetDateTime,
                ) -> Result<()> {
                    sqlx::query(
                        "UPDATE jobs SET run_at = $2, last_error = $3, locked_by = NULL, \
                         locked_until = NULL WHERE id = $1 AND locked_by IS NOT NULL",
                    )
                    .bind(id)
                    .bind(DbTime::from(run_at))
                    .bind(error)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn fail_job(&self, id: i64, error: &str, now: OffsetDateTime) -> Result<()> {
                    sqlx::query(
                        "UPDATE jobs SET failed_at = $2, last_error = $3, locked_by = NULL, \
                         locked_until = NULL WHERE id = $1 AND locked_by IS NOT NULL",
                    )
                    .bind(id)
                    .bind(DbTime::from(now))
                    .bind(error)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn failed_jobs(&self, limit: u32) -> Result<Vec<FailedJob>> {
                    let rows = sqlx::query_as::<_, FailedJobRow>(
                        "SELECT id, kind, payload, attempts, last_error, failed_at FROM jobs \
                         WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, id DESC LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                    Ok(rows.into_iter().map(FailedJob::from).collect())
                }

                async fn pending_job_count(&self) -> Result<i64> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE failed_at IS NULL")
                        .fetch_one(self.reader())
                        .await?)
                }

                async fn insert_api_key(
                    &self,
                    name: &str,
                    role: Role,
                    scopes: &[$crate::KeyScope],
                    prefix: &str,
                    hash: &str,
                    now: OffsetDateTime,
                ) -> Result<ApiKey> {
                    sqlx::query_as::<_, ApiKeyRow>(
                        "INSERT INTO api_keys (name, role, scopes, prefix, hash, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         RETURNING id, name, role, scopes, prefix, created_at, revoked_at",
                    )
                    .bind(name)
                    .bind(role.as_str())
                    .bind($crate::open311::scopes_text(scopes))
                    .bind(prefix)
                    .bind(hash)
                    .bind(DbTime::from(now))
                    .fetch_one(self.writer())
                    .await?
                    .try_into()
                }

                async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
                    sqlx::query_as::<_, ApiKeyRow>(
                        "SELECT id, name, role, scopes, prefix, created_at, revoked_at FROM api_keys \
                         WHERE hash = $1 AND revoked_at IS NULL",
                    )
                    .bind(hash)
                    .fetch_optional(self.reader())
                    .await?
                    .map(ApiKey::try_from)
                    .transpose()
                }

                async fn revoke_api_key(&self, id: i64, now: OffsetDateTime) -> Result<()> {
                    let revoked = sqlx::query(
                        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                    )
                    .bind(id)
                    .bind(DbTime::from(now))
                    .execute(self.writer())
                    .await?;
                    match revoked.rows_affected() {
                        0 => Err(StoreError::NotFound),
                        _ => Ok(()),
                    }
                }

                async fn teams(&self) -> Result<Vec<Team>> {
                    let rows: Vec<(String, String)> =
                        sqlx::query_as("SELECT code, name FROM teams ORDER BY code")
                            .fetch_all(self.reader())
                            .await?;
                    Ok(rows.into_iter().map(|(code, name)| Team { code, name }).collect())
                }

                async fn insert_team(&self, team: &Team) -> Result<Team> {
                    let inserted: Option<(String, String)> = sqlx::query_as(
                        "INSERT INTO teams (code, name) VALUES ($1, $2) \
                         ON CONFLICT (code) DO NOTHING RETURNING code, name",
                    )
                    .bind(team.code.as_str())
                    .bind(team.name.as_str())
                    .fetch_optional(self.writer())
                    .await?;
                    let (code, name) = inserted.ok_or(StoreError::Taken("the team code"))?;
                    Ok(Team { code, name })
                }

                async fn ensure_teams(&self, teams: &[Team]) -> Result<()> {
                    if teams.is_empty() {
                        return Ok(());
                    }
                    let mut sql = QueryBuilder::new("INSERT INTO teams (code, name) ");
                    sql.push_values(teams, |mut row, team| {
                        row.push_bind(team.code.as_str()).push_bind(team.name.as_str());
                    });
                    sql.push(" ON CONFLICT (code) DO NOTHING");
                    sql.build().execute(self.writer()).await?;
                    Ok(())
                }

                async fn insert_staff(&self, staff: &NewStaff) -> Result<Staff> {
                    let mut tx = self.begin_write().await?;
                    // No conflict target: the one unique index that can conflict is on
                    // lower(email), which neither database lets an upsert name simply.
                    let inserted: Option<StaffRow> = sqlx::query_as(concat!(
                        "INSERT INTO staff (email, name, role, password_hash, active, created_at) ",
                        "VALUES ($1, $2, $3, $4, TRUE, $5) ON CONFLICT DO NOTHING RETURNING ",
                        staff_columns!()
                    ))
                    .bind(staff.email.as_str())
                    .bind(staff.name.as_str())
                    .bind(staff.role.as_str())
                    .bind(staff.password_hash.as_deref())
                    .bind(DbTime::from(staff.created_at))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let row = inserted.ok_or(StoreError::Taken("the email address"))?;
                    let mut teams = staff.teams.clone();
                    teams.sort();
                    teams.dedup();
                    if !teams.is_empty() {
                        let mut sql =
                            QueryBuilder::new("INSERT INTO staff_teams (staff_id, team_code) ");
                        sql.push_values(&teams, |mut values, team| {
                            values.push_bind(row.id).push_bind(team.as_str());
                        });
                        sql.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    row.with_teams(teams)
                }

                async fn staff_by_id(&self, id: i64) -> Result<Option<Staff>> {
                    let row = sqlx::query_as::<_, StaffRow>(concat!(
                        "SELECT ",
                        staff_columns!(),
                        " FROM staff WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                    with_teams(self.reader(), row).await
                }

                async fn staff_by_email(&self, email: &str) -> Result<Option<Staff>> {
                    let row = sqlx::query_as::<_, StaffRow>(concat!(
                        "SELECT ",
                        staff_columns!(),
                        " FROM staff WHERE lower(email) = lower($1)"
                    ))
                    .bind(email)
                    .fetch_optional(self.reader())
                    .await?;
                    with_teams(self.reader(), row).await
                }

                async fn list_staff(&self) -> Result<Vec<Staff>> {
                    let rows = sqlx::query_as::<_, StaffRow>(concat!(
                        "SELECT ",
                        staff_columns!(),
                        " FROM staff ORDER BY name, id"
                    ))
                    .fetch_all(self.reader())
                    .await?;
                    let memberships: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT staff_id, team_code FROM staff_teams ORDER BY staff_id, team_code",
                    )
                    .fetch_all(self.reader())
                    .await?;
                    let mut teams = std::collections::HashMap::<i64, Vec<String>>::new();
                    for (staff_id, team) in memberships {
                        teams.entry(staff_id).or_default().push(team);
                    }
                    rows.into_iter()
                        .map(|row| {
                            let own = teams.remove(&row.id).unwrap_or_default();
                            row.with_teams(own)
                        })
                        .collect()
                }

                async fn set_staff_password(&self, id: i64, password_hash: &str) -> Result<()> {
                    let updated = sqlx::query("UPDATE staff SET password_hash = $2 WHERE id = $1")
                        .bind(id)
                        .bind(password_hash)
                        .execute(self.writer())
                        .await?;
                    match updated.rows_affected() {
                        0 => Err(StoreError::NotFound),
                        _ => Ok(()),
                    }
                }

                async fn deactivate_staff(&self, id: i64, now: OffsetDateTime) -> Result<()> {
                    let updated = sqlx::query(
                        "UPDATE staff SET active = FALSE, \
                         deactivated_at = COALESCE(deactivated_at, $2) WHERE id = $1",
                    )
                    .bind(id)
                    .bind(DbTime::from(now))
                    .execute(self.writer())
                    .await?;
                    match updated.rows_affected() {
                        0 => Err(StoreError::NotFound),
                        _ => Ok(()),
                    }
                }

                async fn delete_staff_sessions(&self, staff_id: i64) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
                        .bind(staff_id)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn insert_session(&self, session: &SessionRecord) -> Result<bool> {
                    let inserted = sqlx::query(
                        "INSERT INTO sessions (id, staff_id, data, expires_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(session.id.as_str())
                    .bind(session.staff_id)
                    .bind(Json(&session.data))
                    .bind(DbTime::from(session.expires_at))
                    .execute(self.writer())
                    .await?;
                    Ok(inserted.rows_affected() == 1)
                }

                async fn update_session(&self, session: &SessionRecord) -> Result<()> {
                    sqlx::query(
                        "UPDATE sessions SET staff_id = $2, data = $3, expires_at = $4 \
                         WHERE id = $1",
                    )
                    .bind(session.id.as_str())
                    .bind(session.staff_id)
                    .bind(Json(&session.data))
                    .bind(DbTime::from(session.expires_at))
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn session(
                    &self,
                    id: &str,
                    now: OffsetDateTime,
                ) -> Result<Option<SessionRecord>> {
                    Ok(sqlx::query_as::<_, SessionRow>(
                        "SELECT id, staff_id, data, expires_at FROM sessions \
                         WHERE id = $1 AND expires_at > $2",
                    )
                    .bind(id)
                    .bind(DbTime::from(now))
                    .fetch_optional(self.reader())
                    .await?
                    .map(SessionRecord::from))
                }

                async fn delete_session(&self, id: &str) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE id = $1")
                        .bind(id)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                        .bind(DbTime::from(now))
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn record_sign_in_failure(
                    &self,
                    keys: &[String],
                    at: OffsetDateTime,
                    forget_before: OffsetDateTime,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
                        .bind(DbTime::from(forget_before))
                        .execute(&mut *tx)
                        .await?;
                    if !keys.is_empty() {
                        let mut sql = QueryBuilder::new("INSERT INTO sign_in_failures (key, at) ");
                        sql.push_values(keys, |mut row, key| {
                            row.push_bind(key.as_str()).push_bind(DbTime::from(at));
                        });
                        sql.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn sign_in_failures(&self, key: &str, since: OffsetDateTime) -> Result<i64> {
                    Ok(sqlx::query_scalar(
                        "SELECT COUNT(*) FROM sign_in_failures WHERE key = $1 AND at >= $2",
                    )
                    .bind(key)
                    .bind(DbTime::from(since))
                    .fetch_one(self.reader())
                    .await?)
                }

                async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
                    sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
                        .bind(key)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn insert_set_password_token(
                    &self,
                    staff_id: i64,
                    hash: &str,
                    expires_at: OffsetDateTime,
                    now: OffsetDateTime,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "DELETE FROM set_password_tokens WHERE staff_id = $1 OR expires_at <= $2",
                    )
                    .bind(staff_id)
                    .bind(DbTime::from(now))
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO set_password_tokens (hash, staff_id, expires_at) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(hash)
                    .bind(staff_id)
                    .bind(DbTime::from(expires_at))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn set_password_token_staff(
                    &self,
                    hash: &str,
                    now: OffsetDateTime,
                ) -> Result<Option<i64>> {
                    Ok(sqlx::query_scalar(
                        "SELECT t.staff_id FROM set_password_tokens t \
                         JOIN staff s ON s.id = t.staff_id \
                         WHERE t.hash = $1 AND t.expires_at > $2 AND s.active",
                    )
                    .bind(hash)
                    .bind(DbTime::from(now))
                    .fetch_optional(self.reader())
                    .await?)
                }

                async fn set_password_with_token(
                    &self,
                    hash: &str,
                    password_hash: &str,
                    now: OffsetDateTime,
                ) -> Result<Option<i64>> {
                    let mut tx = self.begin_write().await?;
                    let staff_id: Option<i64> = sqlx::query_scalar(
                        "DELETE FROM set_password_tokens WHERE hash = $1 AND expires_at > $2 \
                         RETURNING staff_id",
                    )
                    .bind(hash)
                    .bind(DbTime::from(now))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(staff_id) = staff_id else {
                        return Ok(None);
                    };
                    let updated = sqlx::query(
                        "UPDATE staff SET password_hash = $2 WHERE id = $1 AND active",
                    )
                    .bind(staff_id)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                    // Spent either way: a deactivated member of staff's link is no use to keep.
                    tx.commit().await?;
                    Ok((updated.rows_affected() == 1).then_some(staff_id))
                }
            }

            /// The member of staff in `row`, with their teams.
            async fn with_teams<'e>(
                executor: impl sqlx::Executor<'e, Database = Db>,
                row: Option<StaffRow>,
            ) -> Result<Option<Staff>> {
                let Some(row) = row else {
                    return Ok(None);
                };
                let teams: Vec<String> = sqlx::query_scalar(
                    "SELECT team_code FROM staff_teams WHERE staff_id = $1 ORDER BY team_code",
                )
                .bind(row.id)
                .fetch_all(executor)
                .await?;
                row.with_teams(teams).map(Some)
            }

            pub(super) async fn case_row<'e>(
                executor: impl sqlx::Executor<'e, Database = Db>,
                reference: Reference,
            ) -> Result<Option<CaseRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    case_columns!(),
                    " FROM cases WHERE number = $1"
                ))
                .bind(reference.number())
                .fetch_optional(executor)
                .await?)
            }

            /// `INSERT INTO cases (..) VALUES (..), ..`, each case at version 1.
            pub(super) fn push_new_cases(sql: &mut QueryBuilder<Db>, cases: &[NewCase]) {
                sql.push(format_args!("INSERT INTO cases ({NEW_CASE_COLUMNS}) "));
                sql.push_values(cases, |mut row, case| {
                    let location = case.location.as_ref();
                    let external = case.external.as_ref();
                    let created_at = DbTime::from(case.created_at);
                    row.push_bind(case.service.as_str())
                        .push_bind(case.state.as_str())
                        .push_bind(case.closed_at.is_none())
                        .push_bind(case.priority.as_str())
                        .push_bind(case.priority_rank)
                        .push_bind(case.team.as_str())
                        .push_bind(case.contact.name.as_str())
                        .push_bind(case.contact.email.as_deref())
                        .push_bind(case.contact.phone.as_deref())
                        .push_bind(case.contact.preferred_channel.as_str())
                        .push_bind(case.contact.language.as_str())
                        .push_bind(Json(&case.answers))
                        .push_bind(case.description.as_deref())
                        .push_bind(location.and_then(|l| l.lat))
                        .push_bind(location.and_then(|l| l.long))
                        .push_bind(location.and_then(|l| l.address.as_deref()))
                        .push_bind(external.map(|x| x.system.as_str()))
                        .push_bind(external.map(|x| x.reference.as_str()))
                        .push_bind(DbTime::from(case.sla_due_at))
                        .push_bind(created_at)
                        .push_bind(created_at)
                        .push_bind(case.closed_at.map(DbTime::from))
                        .push("1");
                });
            }

            /// Saves `case` if it is still at its version, with its events. A case changed
            /// since is a conflict that carries the case as it is now.
            pub(super) async fn save_case(
                conn: &mut Conn,
                case: &Case,
                actor: &Actor,
                events: &[EventKind],
            ) -> Result<CaseRow> {
                let Some(row) = update_row(conn, case).await? else {
                    let current = case_row(&mut *conn, case.reference).await?;
                    return Err(match current {
                        Some(current) => StoreError::Conflict {
                            expected: case.version,
                            current: Box::new(current.try_into()?),
                        },
                        None => StoreError::NotFound,
                    });
                };
                let at = DbTime::from(case.updated_at);
                let events: Vec<_> = events.iter().map(|event| (row.number, at, event)).collect();
                insert_events(conn, actor, &events).await?;
                Ok(row)
            }

            /// Saves `case` if it is still at its version. Its service, creation time and
            /// external reference are fixed when it is made, and are not written again.
            async fn update_row(conn: &mut Conn, case: &Case) -> Result<Option<CaseRow>> {
                let location = case.location.as_ref();
                Ok(sqlx::query_as(concat!(
                    "UPDATE cases SET state = $3, open = $4, priority = $5, team = $6, ",
                    "assignee = $7, contact_name = $8, contact_email = $9, contact_phone = $10, ",
                    "preferred_channel = $11, language = $12, answers = $13, description = $14, ",
                    "lat = $15, long = $16, address = $17, sla_due_at = $18, ",
                    "sla_breached_at = $19, updated_at = $20, closed_at = $21, ",
                    "priority_rank = $22, ",
                    "version = version + 1 WHERE number = $1 AND version = $2 RETURNING ",
                    case_columns!()
                ))
                .bind(case.reference.number())
                .bind(case.version)
                .bind(case.state.as_str())
                .bind(case.closed_at.is_none())
                .bind(case.priority.as_str())
                .bind(case.team.as_str())
                .bind(case.assignee.as_deref())
                .bind(case.contact.name.as_str())
                .bind(case.contact.email.as_deref())
                .bind(case.contact.phone.as_deref())
                .bind(case.contact.preferred_channel.as_str())
                .bind(case.contact.language.as_str())
                .bind(Json(&case.answers))
                .bind(case.description.as_deref())
                .bind(location.and_then(|l| l.lat))
                .bind(location.and_then(|l| l.long))
                .bind(location.and_then(|l| l.address.as_deref()))
                .bind(DbTime::from(case.sla_due_at))
                .bind(case.sla_breached_at.map(DbTime::from))
                .bind(DbTime::from(case.updated_at))
                .bind(case.closed_at.map(DbTime::from))
                .bind(case.priority_rank)
                .fetch_optional(conn)
                .await?)
            }

            /// The request hash and case stored for an idempotency key, if it was used.
            async fn idempotency_row<'e>(
                executor: impl sqlx::Executor<'e, Database = Db>,
                api_key_id: i64,
                key: &str,
            ) -> Result<Option<(String, Reference)>> {
                let row: Option<(String, i64)> = sqlx::query_as(
                    "SELECT request_hash, case_number FROM idempotency_keys \
                     WHERE api_key_id = $1 AND key = $2",
                )
                .bind(api_key_id)
                .bind(key)
                .fetch_optional(executor)
                .await?;
                Ok(row.map(|(hash, number)| (hash, Reference::new(number))))
            }

            /// The replay error for an idempotency key already used, if it was.
            async fn idempotency_replay(
                conn: &mut Conn,
                claim: &IdempotencyClaim,
            ) -> Result<Option<StoreError>> {
                let row = idempotency_row(conn, claim.api_key_id, &claim.key).await?;
                Ok(row.map(|(request_hash, reference)| StoreError::IdempotencyReplay {
                    reference,
                    request_hash,
                }))
            }

            /// Ties the key to the new case; a request with the same key that committed first
            /// makes this one a replay of it.
            async fn record_idempotency(
                conn: &mut Conn,
                claim: &IdempotencyClaim,
                number: i64,
                at: DbTime,
            ) -> Result<()> {
                let recorded = sqlx::query(
                    "INSERT INTO idempotency_keys \
                     (api_key_id, key, request_hash, case_number, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (api_key_id, key) DO NOTHING",
                )
                .bind(claim.api_key_id)
                .bind(claim.key.as_str())
                .bind(claim.request_hash.as_str())
                .bind(number)
                .bind(at)
                .execute(&mut *conn)
                .await?;
                if recorded.rows_affected() == 1 {
                    return Ok(());
                }
                Err(idempotency_replay(conn, claim).await?.unwrap_or_else(|| {
                    StoreError::Corrupt(format!("idempotency key {:?} vanished", claim.key))
                }))
            }

            /// Why a new case met another with its external reference. A retried request meets
            /// the case it made itself once the first try commits: that is a replay.
            async fn external_taken(
                conn: &mut Conn,
                case: &NewCase,
                idempotency: Option<&IdempotencyClaim>,
            ) -> Result<StoreError> {
                if let Some(claim) = idempotency
                    && let Some(replay) = idempotency_replay(conn, claim).await?
                {
                    return Ok(replay);
                }
                let external = case
                    .external
                    .as_ref()
                    .expect("only an external reference can conflict");
                let number: i64 = sqlx::query_scalar(
                    "SELECT number FROM cases \
                     WHERE external_system = $1 AND external_reference = $2",
                )
                .bind(external.system.as_str())
                .bind(external.reference.as_str())
                .fetch_one(conn)
                .await?;
                Ok(StoreError::DuplicateExternal(Reference::new(number)))
            }

            /// Appends events, each `(case number, at, kind)`, in order, with the webhook
            /// deliveries they cause.
            pub(super) async fn insert_events(
                conn: &mut Conn,
                actor: &Actor,
                events: &[(i64, DbTime, &EventKind)],
            ) -> Result<()> {
                let actor = actor.to_string();
                for batch in events.chunks(MAX_PARAMS / 5) {
                    let mut sql = QueryBuilder::new(
                        "INSERT INTO events (case_number, at, actor, kind, data) ",
                    );
                    sql.push_values(batch, |mut row, (number, at, kind)| {
                        row.push_bind(*number)
                            .push_bind(*at)
                            .push_bind(actor.as_str())
                            .push_bind(kind.name())
                            .push_bind(Json(*kind));
                    });
                    sql.push(" RETURNING id");
                    let ids: Vec<i64> = sql.build_query_scalar().fetch_all(&mut *conn).await?;
                    insert_deliveries(&mut *conn, &ids).await?;
                }
                Ok(())
            }

            /// Adds jobs; a job with a key replaces the one with that key, if any, which runs
            /// afresh at the new time.
            pub(super) async fn upsert_jobs(conn: &mut Conn, jobs: &[NewJob]) -> Result<()> {
                for job in jobs {
                    sqlx::query(
                        "INSERT INTO jobs (kind, payload, run_at, key) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (key) WHERE key IS NOT NULL DO UPDATE SET \
                         kind = excluded.kind, payload = excluded.payload, \
                         run_at = excluded.run_at, attempts = 0, last_error = NULL, \
                         locked_by = NULL, locked_until = NULL, failed_at = NULL",
                    )
                    .bind(job.kind.as_str())
                    .bind(Json(&job.payload))
                    .bind(DbTime::from(job.run_at))
                    .bind(job.key.as_deref())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }

            /// Keeps the rows after `cursor` in its order.
            fn push_after(sql: &mut QueryBuilder<Db>, cursor: &Cursor) -> Result<()> {
                let bad = |what: String| {
                    StoreError::Database(sqlx::Error::InvalidArgument(format!("cursor {what}")))
                };
                let Keyset { columns, after, .. } = Keyset::of(cursor.sort);
                let key = DbTime::from_micros(cursor.key).map_err(|e| bad(format!("key: {e}")))?;
                let rank = match (cursor.sort, cursor.rank) {
                    (CaseSort::Priority, None) => return Err(bad("without a rank".into())),
                    (CaseSort::Priority, rank) => rank,
                    _ => None,
                };
                sql.push(format_args!(" AND ({}, number) {after} (", columns.join(", ")));
                if let Some(rank) = rank {
                    sql.push_bind(rank).push(", ");
                }
                sql.push_bind(key)
                    .push(", ")
                    .push_bind(cursor.reference)
                    .push(")");
                Ok(())
            }

            fn push_filter(sql: &mut QueryBuilder<Db>, filter: &CaseFilter) {
                if let Some(service) = &filter.service {
                    sql.push(" AND service = ").push_bind(service.clone());
                }
                if let Some(state) = &filter.state {
                    sql.push(" AND state = ").push_bind(state.clone());
                }
                if let Some(team) = &filter.team {
                    sql.push(" AND team = ").push_bind(team.clone());
                }
                // One placeholder per team: both databases take `IN ($1, $2, ...)`, whereas
                // PostgreSQL's `= ANY($1)` has no SQLite counterpart.
                if !filter.teams.is_empty() {
                    sql.push(" AND team IN (");
                    let mut teams = sql.separated(", ");
                    for team in &filter.teams {
                        teams.push_bind(team.clone());
                    }
                    sql.push(")");
                }
                if let Some(priority) = &filter.priority {
                    sql.push(" AND priority = ").push_bind(priority.clone());
                }
                match &filter.assignee {
                    Some(Assignee::Nobody) => {
                        sql.push(" AND assignee IS NULL");
                    }
                    Some(Assignee::Person(person)) => {
                        sql.push(" AND assignee = ").push_bind(person.clone());
                    }
                    None => {}
                }
                // `open` as it stands, not `open = $n`, so that the planner can prove the
                // partial indexes' `WHERE open` and use them.
                match filter.open {
                    Some(true) => {
                        sql.push(" AND open");
                    }
                    Some(false) => {
                        sql.push(" AND NOT open");
                    }
                    None => {}
                }
                if let Some(at) = filter.overdue_at {
                    sql.push(" AND open AND sla_due_at < ").push_bind(DbTime::from(at));
                }
                if let Some(from) = filter.created_from {
                    sql.push(" AND created_at >= ").push_bind(DbTime::from(from));
                }
                if let Some(before) = filter.created_before {
                    sql.push(" AND created_at < ").push_bind(DbTime::from(before));
                }
                if let Some(from) = filter.due_from {
                    sql.push(" AND sla_due_at >= ").push_bind(DbTime::from(from));
                }
                if let Some(since) = filter.closed_since {
                    sql.push(" AND closed_at >= ").push_bind(DbTime::from(since));
                }
                match filter.sla_breached {
                    Some(true) => {
                        sql.push(" AND sla_breached_at IS NOT NULL");
                    }
                    Some(false) => {
                        sql.push(" AND sla_breached_at IS NULL");
                    }
                    None => {}
                }
                if let Some((system, reference)) = &filter.external {
                    sql.push(" AND external_system = ")
                        .push_bind(system.clone())
                        .push(" AND external_reference = ")
                        .push_bind(reference.clone());
                }
                // From the replies, which are few beside the cases.
                if let Some(reader) = &filter.unread_by {
                    sql.push(
                        " AND number IN (SELECT m.case_number FROM messages m \
                         WHERE m.direction = 'inbound' AND NOT EXISTS (SELECT 1 \
                         FROM message_reads r WHERE r.case_number = m.case_number AND r.reader = ",
                    )
                    .push_bind(reader.clone())
                    .push(" AND r.read_up_to >= m.created_at))");
                }
                if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                    push_search(sql, q);
                }
            }

            /// A reference finds that case only; digits may be a reference or part of a phone
            /// number; anything else is text to look for.
            fn push_search(sql: &mut QueryBuilder<Db>, q: &str) {
                if let Ok(reference) = q.to_uppercase().parse::<Reference>() {
                    sql.push(" AND number = ").push_bind(reference.number());
                    return;
                }
                sql.push(" AND (");
                if q.bytes().all(|b| b.is_ascii_digit())
                    && let Ok(number) = q.parse::<i64>()
                {
                    sql.push("number = ").push_bind(number).push(" OR ");
                }
                <$store as Backend>::push_text_match(sql, q);
                sql.push(")");
            }
        }
    };
}
pub(crate) use impl_store;
