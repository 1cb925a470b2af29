//! Shared plans, the access links that open them for residents, and the reminders given for
//! residents' actions.

use async_trait::async_trait;
use casework_domain::case::{Actor, EventKind, Reference};
use casework_domain::plan::{ActionId, Plan, PlanAction, Reminder};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::Result;

/// A resident's link to one case's plan, without its token: only a hash of the token is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLink {
    pub id: i64,
    pub case: Reference,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: Actor,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<Actor>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub uses: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessLink {
    pub case: Reference,
    pub token_hash: String,
    pub created_at: OffsetDateTime,
    pub created_by: Actor,
    pub expires_at: OffsetDateTime,
}

/// A resident's action, still to do, whose due date falls in a reminder window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAction {
    pub case: Reference,
    pub action: PlanAction,
}

/// The plan side of the [`Store`](crate::Store).
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// The case's plan; a plan never saved is empty, at version 0.
    async fn plan(&self, case: Reference) -> Result<Plan>;
    /// Saves the whole plan (its version must still be `plan.version`) and appends its events,
    /// in one transaction. Returns the plan with its new version; a stale version is
    /// [`StoreError::PlanConflict`](crate::StoreError::PlanConflict).
    async fn save_plan(
        &self,
        case: Reference,
        plan: &Plan,
        actor: &Actor,
        events: &[EventKind],
        at: OffsetDateTime,
    ) -> Result<Plan>;

    /// Stores a new link with its `plan_shared` event.
    async fn insert_access_link(&self, link: &NewAccessLink) -> Result<AccessLink>;
    /// The case's links, newest first.
    async fn access_links(&self, case: Reference) -> Result<Vec<AccessLink>>;
    /// The link whose token has this hash, expired, revoked or not.
    async fn access_link_by_hash(&self, token_hash: &str) -> Result<Option<AccessLink>>;
    /// Stops one of the case's links working, with a `plan_link_revoked` event. Returns `false`
    /// for a link of another case, or one already revoked (which keeps its first revocation).
    async fn revoke_access_link(
        &self,
        case: Reference,
        id: i64,
        actor: &Actor,
        at: OffsetDateTime,
    ) -> Result<bool>;
    /// Records a use of a link, and appends `event` to its case's timeline if given.
    async fn record_access_link_use(
        &self,
        link: &AccessLink,
        at: OffsetDateTime,
        event: Option<&EventKind>,
    ) -> Result<()>;

    /// Residents' actions still to do on open cases of `service`, due from `from` to `until`
    /// (both included), which have not had the reminder their due date calls for on `today`
    /// (`due_today` for today, `due_soon` otherwise). Soonest first.
    async fn unreminded_actions(
        &self,
        service: &str,
        today: Date,
        until: Date,
        limit: u32,
    ) -> Result<Vec<DueAction>>;
    /// Records a reminder with its event, unless that reminder was already given for the
    /// action and due date. Returns whether it was recorded now.
    async fn record_reminder(
        &self,
        due: &DueAction,
        reminder: Reminder,
        event: &EventKind,
        at: OffsetDateTime,
    ) -> Result<bool>;
}

/// The columns of `access_links` that make an [`AccessLinkRow`](crate::rows::AccessLinkRow), in
/// its order; a macro so that it can be `concat!`-ed into static SQL.
macro_rules! link_columns {
    () => {
        "id, case_number, created_at, created_by, expires_at, revoked_at, revoked_by, \
         last_used_at, uses"
    };
}
pub(crate) use link_columns;

/// A due date as both backends keep it.
pub(crate) fn date_text(date: Date) -> String {
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    format!("{year:04}-{month:02}-{day:02}")
}

pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok()
}

pub(crate) fn action_id_text(id: ActionId) -> String {
    id.uuid().as_hyphenated().to_string()
}

/// Implements [`PlanStore`] for `$store`, a [`Backend`](crate::shared::Backend).
macro_rules! impl_plan_store {
    ($store:ident) => {
        mod plan_impl {
            use async_trait::async_trait;
            use casework_domain::case::{Actor, EventKind, Reference};
            use casework_domain::plan::{Plan, Reminder};
            use sqlx::QueryBuilder;
            use time::{Date, OffsetDateTime};

            use super::$store;
            use super::shared_impl::insert_events;
            use $crate::db_time::DbTime;
            use $crate::plans::{
                AccessLink, DueAction, NewAccessLink, PlanStore, action_id_text, date_text,
                link_columns,
            };
            use $crate::rows::{AccessLinkRow, PlanActionRow, PlanRow};
            use $crate::shared::{Backend, MAX_PARAMS};
            use $crate::{Result, StoreError};

            type Db = <$store as Backend>::Db;
            type Conn = <Db as sqlx::Database>::Connection;

            /// How many values [`insert_actions`] binds per action.
            const ACTION_PARAMS: usize = 9;
            /// How many values [`insert_plans`] binds per plan.
            const PLAN_PARAMS: usize = 4;

            #[async_trait]
            impl PlanStore for $store {
                async fn plan(&self, case: Reference) -> Result<Plan> {
                    let mut conn = self.reader().acquire().await?;
                    read_plan(&mut conn, case).await
                }

                async fn save_plan(
                    &self,
                    case: Reference,
                    plan: &Plan,
                    actor: &Actor,
                    events: &[EventKind],
                    at: OffsetDateTime,
                ) -> Result<Plan> {
                    let mut tx = self.begin_write().await?;
                    let at = DbTime::from(at);
                    let saved = if plan.version == 0 {
                        sqlx::query(
                            "INSERT INTO plans (case_number, goal, version, updated_at) \
                             VALUES ($1, $2, 1, $3) ON CONFLICT (case_number) DO NOTHING",
                        )
                        .bind(case.number())
                        .bind(plan.goal.as_deref())
                        .bind(at)
                        .execute(&mut *tx)
                        .await?
                    } else {
                        sqlx::query(
                            "UPDATE plans SET goal = $2, version = version + 1, updated_at = $3 \
                             WHERE case_number = $1 AND version = $4",
                        )
                        .bind(case.number())
                        .bind(plan.goal.as_deref())
                        .bind(at)
                        .bind(plan.version)
                        .execute(&mut *tx)
                        .await?
                    };
                    if saved.rows_affected() == 0 {
                        let current = read_plan(&mut tx, case).await?;
                        return Err(StoreError::PlanConflict {
                            expected: plan.version,
                            current: Box::new(current),
                        });
                    }
                    // A plan is a short list: writing it whole is simpler than working out
                    // which rows moved, and keeps each action's id.
                    sqlx::query("DELETE FROM plan_actions WHERE case_number = $1")
                        .bind(case.number())
                        .execute(&mut *tx)
                        .await?;
                    insert_actions(&mut tx, &[(case, plan)]).await?;
                    let events: Vec<_> =
                        events.iter().map(|event| (case.number(), at, event)).collect();
                    insert_events(&mut tx, actor, &events).await?;
                    let saved = read_plan(&mut tx, case).await?;
                    tx.commit().await?;
                    Ok(saved)
                }

                async fn insert_access_link(&self, link: &NewAccessLink) -> Result<AccessLink> {
                    let mut tx = self.begin_write().await?;
                    let row: AccessLinkRow = sqlx::query_as(concat!(
                        "INSERT INTO access_links (case_number, token_hash, created_at, ",
                        "created_by, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
                        link_columns!()
                    ))
                    .bind(link.case.number())
                    .bind(link.token_hash.as_str())
                    .bind(DbTime::from(link.created_at))
                    .bind(link.created_by.to_string())
                    .bind(DbTime::from(link.expires_at))
                    .fetch_one(&mut *tx)
                    .await?;
                    let event = EventKind::PlanShared {
                        link: row.id,
                        expires_at: DbTime::from(link.expires_at).get(),
                    };
                    insert_events(
                        &mut tx,
                        &link.created_by,
                        &[(link.case.number(), DbTime::from(link.created_at), &event)],
                    )
                    .await?;
                    tx.commit().await?;
                    row.try_into()
                }

                async fn access_links(&self, case: Reference) -> Result<Vec<AccessLink>> {
                    sqlx::query_as::<_, AccessLinkRow>(concat!(
                        "SELECT ",
                        link_columns!(),
                        " FROM access_links WHERE case_number = $1 ORDER BY id DESC"
                    ))
                    .bind(case.number())
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(AccessLink::try_from)
                    .collect()
                }

                async fn access_link_by_hash(
                    &self,
                    token_hash: &str,
                ) -> Result<Option<AccessLink>> {
                    sqlx::query_as::<_, AccessLinkRow>(concat!(
                        "SELECT ",
                        link_columns!(),
                        " FROM access_links WHERE token_hash = $1"
                    ))
                    .bind(token_hash)
                    .fetch_optional(self.reader())
                    .await?
                    .map(AccessLink::try_from)
                    .transpose()
                }

                async fn revoke_access_link(
                    &self,
                    case: Reference,
                    id: i64,
                    actor: &Actor,
                    at: OffsetDateTime,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let at = DbTime::from(at);
                    let revoked = sqlx::query(
                        "UPDATE access_links SET revoked_at = $3, revoked_by = $4 \
                         WHERE id = $1 AND case_number = $2 AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .bind(case.number())
                    .bind(at)
                    .bind(actor.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if revoked {
                        let event = EventKind::PlanLinkRevoked { link: id };
                        insert_events(&mut tx, actor, &[(case.number(), at, &event)]).await?;
                    }
                    tx.commit().await?;
                    Ok(revoked)
                }

                async fn record_access_link_use(
                    &self,
                    link: &AccessLink,
                    at: OffsetDateTime,
                    event: Option<&EventKind>,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let at = DbTime::from(at);
                    sqlx::query(
                        "UPDATE access_links SET uses = uses + 1, last_used_at = $2 WHERE id = $1",
                    )
                    .bind(link.id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("INSERT INTO access_link_uses (link_id, at) VALUES ($1, $2)")
                        .bind(link.id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(event) = event {
                        insert_events(
                            &mut tx,
                            &Actor::Resident,
                            &[(link.case.number(), at, event)],
                        )
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn unreminded_actions(
                    &self,
                    service: &str,
                    today: Date,
                    until: Date,
                    limit: u32,
                ) -> Result<Vec<DueAction>> {
                    let today = date_text(today);
                    let rows: Vec<PlanActionRow> = sqlx::query_as(
                        "SELECT a.id, a.case_number, a.owner, a.title, a.details, a.due_on, \
                         a.completed_at, a.completed_by \
                         FROM plan_actions a JOIN cases c ON c.number = a.case_number \
                         WHERE a.owner = 'resident' AND a.completed_at IS NULL \
                         AND a.due_on >= $1 AND a.due_on <= $2 AND c.open AND c.service = $3 \
                         AND NOT EXISTS (SELECT 1 FROM plan_reminders r \
                         WHERE r.action_id = a.id AND r.due_on = a.due_on AND r.reminder = \
                         CASE WHEN a.due_on = $1 THEN 'due_today' ELSE 'due_soon' END) \
                         ORDER BY a.due_on, a.id LIMIT $4",
                    )
                    .bind(today.as_str())
                    .bind(date_text(until))
                    .bind(service)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                    rows.into_iter()
                        .map(|row| {
                            let case = Reference::new(row.case_number);
                            Ok(DueAction {
                                case,
                                action: row.try_into()?,
                            })
                        })
                        .collect()
                }

                async fn record_reminder(
                    &self,
                    due: &DueAction,
                    reminder: Reminder,
                    event: &EventKind,
                    at: OffsetDateTime,
                ) -> Result<bool> {
                    let Some(due_on) = due.action.due_on else {
                        return Ok(false);
                    };
                    let mut tx = self.begin_write().await?;
                    let at = DbTime::from(at);
                    let recorded = sqlx::query(
                        "INSERT INTO plan_reminders (action_id, due_on, reminder, case_number, at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(action_id_text(due.action.id))
                    .bind(date_text(due_on))
                    .bind(reminder.as_str())
                    .bind(due.case.number())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if recorded {
                        insert_events(&mut tx, &Actor::System, &[(due.case.number(), at, event)])
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(recorded)
                }
            }

            async fn read_plan(conn: &mut Conn, case: Reference) -> Result<Plan> {
                let row: Option<PlanRow> =
                    sqlx::query_as("SELECT goal, version FROM plans WHERE case_number = $1")
                        .bind(case.number())
                        .fetch_optional(&mut *conn)
                        .await?;
                let Some(row) = row else {
                    return Ok(Plan::default());
                };
                let actions = sqlx::query_as::<_, PlanActionRow>(
                    "SELECT id, case_number, owner, title, details, due_on, completed_at, \
                     completed_by FROM plan_actions WHERE case_number = $1 ORDER BY position",
                )
                .bind(case.number())
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<Vec<_>>>()?;
                Ok(Plan {
                    goal: row.goal,
                    actions,
                    version: row.version,
                })
            }

            /// Inserts the actions of each case's plan, in the plan's order, many cases to a
            /// statement: an import of many cases would otherwise wait on one round trip each.
            pub(crate) async fn insert_actions(
                conn: &mut Conn,
                plans: &[(Reference, &Plan)],
            ) -> Result<()> {
                let actions: Vec<_> = plans
                    .iter()
                    .flat_map(|(case, plan)| {
                        plan.actions
                            .iter()
                            .enumerate()
                            .map(move |(position, action)| (*case, position, action))
                    })
                    .collect();
                for batch in actions.chunks(MAX_PARAMS / ACTION_PARAMS) {
                    let mut sql = QueryBuilder::new(
                        "INSERT INTO plan_actions (id, case_number, position, owner, title, \
                         details, due_on, completed_at, completed_by) ",
                    );
                    sql.push_values(batch, |mut row, (case, position, action)| {
                        row.push_bind(action_id_text(action.id))
                            .push_bind(case.number())
                            .push_bind(i32::try_from(*position).unwrap_or(i32::MAX))
                            .push_bind(action.owner.as_str())
                            .push_bind(action.title.as_str())
                            .push_bind(action.details.as_deref())
                            .push_bind(action.due_on.map(date_text))
                            .push_bind(action.completed_at.map(DbTime::from))
                            .push_bind(action.completed_by.as_ref().map(ToString::to_string));
                    });
                    sql.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Starts new cases' plans at version 1, each case's if its service gives it
            /// anything.
            pub(crate) async fn insert_plans(
                conn: &mut Conn,
                plans: &[(Reference, &Plan, DbTime)],
            ) -> Result<()> {
                let plans: Vec<_> = plans
                    .iter()
                    .filter(|(_, plan, _)| plan.goal.is_some() || !plan.actions.is_empty())
                    .collect();
                for batch in plans.chunks(MAX_PARAMS / PLAN_PARAMS) {
                    let mut sql = QueryBuilder::new(
                        "INSERT INTO plans (case_number, goal, version, updated_at) ",
                    );
                    sql.push_values(batch, |mut row, (case, plan, at)| {
                        row.push_bind(case.number())
                            .push_bind(plan.goal.as_deref())
                            .push_bind(1_i64)
                            .push_bind(*at);
                    });
                    sql.build().execute(&mut *conn).await?;
                }
                let actions: Vec<_> = plans.iter().map(|(case, plan, _)| (*case, *plan)).collect();
                insert_actions(conn, &actions).await
            }
        }
    };
}
pub(crate) use impl_plan_store;
