//! Outbound webhooks: the endpoints admins register, and their deliveries. Deliveries are the
//! outbox of the events table: whenever the store appends events, it adds a delivery, with the
//! job that posts it, for every enabled endpoint that subscribes to them, in the same
//! transaction. So a delivery exists if and only if its event was committed, and no cursor over
//! event ids is needed (PostgreSQL's sequences commit out of order, and a cursor would skip).

use async_trait::async_trait;
use casework_domain::case::{EventKind, Reference};
use casework_domain::webhook::WebhookEvent;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{NewJob, Result, StoreError};

/// The kind of job that posts one delivery; its payload is `{"delivery": id}`.
pub const DELIVERY_JOB: &str = "webhook_delivery";

/// The job that posts delivery `id`. Its key makes a resend replace a job still waiting, or one
/// kept as failed, instead of adding a second.
pub fn delivery_job(id: i64, run_at: OffsetDateTime) -> NewJob {
    NewJob {
        kind: DELIVERY_JOB.to_owned(),
        payload: serde_json::json!({ "delivery": id }),
        run_at,
        key: Some(delivery_job_key(id)),
    }
}

pub(crate) fn delivery_job_key(id: i64) -> String {
    format!("{DELIVERY_JOB}:{id}")
}

/// A registered endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// `None`: every service.
    pub service: Option<String>,
    /// What it subscribes to, in [`WebhookEvent::ALL`]'s order.
    pub events: Vec<WebhookEvent>,
    /// The admin allowed http, and hosts on this machine or a private network.
    pub allow_private: bool,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    pub url: String,
    pub description: String,
    pub service: Option<String>,
    pub events: Vec<WebhookEvent>,
    /// The key deliveries are signed with. Stored as it is: signing needs the secret itself.
    pub secret: String,
    pub allow_private: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt, or for a retry.
    Pending,
    Delivered,
    /// Given up on after the last attempt.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One event's delivery to one endpoint, across its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: i64,
    pub event: WebhookEvent,
    pub case: Reference,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// The HTTP status the endpoint last answered with, if it answered.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt_at: Option<OffsetDateTime>,
}

/// Everything needed to post a delivery: where to, the key to sign with, and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryWork {
    pub delivery: WebhookDelivery,
    pub url: String,
    pub secret: String,
    pub allow_private: bool,
    pub enabled: bool,
    pub service: String,
    /// The case's state just after the event.
    pub case_state: String,
    pub occurred_at: OffsetDateTime,
    pub kind: EventKind,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub status: DeliveryStatus,
    pub http_status: Option<i32>,
    pub error: Option<String>,
    pub at: OffsetDateTime,
}

/// The webhooks side of the [`Store`](crate::Store).
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores an endpoint with its subscriptions, enabled, in one transaction.
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
    ) -> Result<WebhookEndpoint>;
    /// Every endpoint, oldest first.
    async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>>;
    async fn webhook_endpoint(&self, id: i64) -> Result<Option<WebhookEndpoint>>;
    /// Starts or stops new deliveries to an endpoint. [`StoreError::NotFound`] if there is none.
    async fn set_webhook_endpoint_enabled(&self, id: i64, enabled: bool) -> Result<()>;
    /// Removes an endpoint with its deliveries and their waiting jobs.
    async fn delete_webhook_endpoint(&self, id: i64) -> Result<()>;
    /// An endpoint's latest deliveries, newest first.
    async fn webhook_deliveries(
        &self,
        endpoint_id: i64,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
    async fn webhook_delivery_work(&self, id: i64) -> Result<Option<DeliveryWork>>;
    /// Records an attempt, counting it.
    async fn record_webhook_attempt(&self, id: i64, attempt: &DeliveryAttempt) -> Result<()>;
    /// Makes an endpoint's delivery pending again and queues its job to run at `now`, in one
    /// transaction. [`StoreError::NotFound`] if the endpoint has no such delivery.
    async fn resend_webhook_delivery(
        &self,
        endpoint_id: i64,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<()>;
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("webhook: bad {what} {value:?}"))
}

fn parse_event(text: &str) -> Result<WebhookEvent> {
    text.parse().map_err(|_| corrupt("event", text))
}

#[derive(sqlx::FromRow)]
pub(crate) struct EndpointRow {
    pub(crate) id: i64,
    url: String,
    description: String,
    service: Option<String>,
    allow_private: bool,
    enabled: bool,
    created_at: crate::db_time::DbTime,
}

impl EndpointRow {
    /// The endpoint, with those of `subscriptions` (endpoint id, event) that are its.
    pub(crate) fn with_events(self, subscriptions: &[(i64, String)]) -> Result<WebhookEndpoint> {
        let mut events = subscriptions
            .iter()
            .filter(|(endpoint, _)| *endpoint == self.id)
            .map(|(_, event)| parse_event(event))
            .collect::<Result<Vec<_>>>()?;
        events.sort();
        Ok(WebhookEndpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            service: self.service,
            events,
            allow_private: self.allow_private,
            enabled: self.enabled,
            created_at: self.created_at.get(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: i64,
    endpoint_id: i64,
    event_id: i64,
    event: String,
    case_number: i64,
    status: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: crate::db_time::DbTime,
    last_attempt_at: Option<crate::db_time::DbTime>,
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self> {
        Ok(WebhookDelivery {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event: parse_event(&row.event)?,
            case: Reference::new(row.case_number),
            status: DeliveryStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", &row.status))?,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            created_at: row.created_at.get(),
            last_attempt_at: row.last_attempt_at.map(|at| at.get()),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WorkRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    url: String,
    secret: String,
    allow_private: bool,
    enabled: bool,
    service: String,
    case_state: String,
    at: crate::db_time::DbTime,
    data: sqlx::types::Json<EventKind>,
}

impl TryFrom<WorkRow> for DeliveryWork {
    type Error = StoreError;

    fn try_from(row: WorkRow) -> Result<Self> {
        Ok(DeliveryWork {
            delivery: row.delivery.try_into()?,
            url: row.url,
            secret: row.secret,
            allow_private: row.allow_private,
            enabled: row.enabled,
            service: row.service,
            case_state: row.case_state,
            occurred_at: row.at.get(),
            kind: row.data.0,
        })
    }
}

/// The columns of a delivery joined with its event (`d`, `e`) that make a [`DeliveryRow`].
macro_rules! delivery_columns {
    () => {
        "d.id, d.endpoint_id, d.event_id, d.event, e.case_number, d.status, d.attempts, \
         d.last_status, d.last_error, d.created_at, d.last_attempt_at"
    };
}
pub(crate) use delivery_columns;

/// The columns of `webhook_endpoints` that make an [`EndpointRow`].
macro_rules! endpoint_columns {
    () => {
        "id, url, description, service, allow_private, enabled, created_at"
    };
}
pub(crate) use endpoint_columns;

/// Implements [`WebhookStore`] for `$store`, a [`Backend`](crate::shared::Backend).
macro_rules! impl_webhook_store {
    ($store:ident) => {
        mod webhook_impl {
            use async_trait::async_trait;
            use casework_domain::webhook::WebhookEvent;
            use sqlx::QueryBuilder;
            use sqlx::types::Json;
            use time::OffsetDateTime;

            use super::$store;
            use super::shared_impl::upsert_jobs;
            use $crate::db_time::DbTime;
            use $crate::shared::{Backend, MAX_PARAMS};
            use $crate::webhooks::{
                DELIVERY_JOB, DeliveryAttempt, DeliveryRow, DeliveryStatus, DeliveryWork,
                EndpointRow, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookStore,
                WorkRow, delivery_columns, delivery_job, delivery_job_key, endpoint_columns,
            };
            use $crate::{Result, StoreError};

            type Db = <$store as Backend>::Db;
            type Conn = <Db as sqlx::Database>::Connection;

            #[async_trait]
            impl WebhookStore for $store {
                async fn insert_webhook_endpoint(
                    &self,
                    endpoint: &NewWebhookEndpoint,
                ) -> Result<WebhookEndpoint> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<_, EndpointRow>(concat!(
                        "INSERT INTO webhook_endpoints (url, description, service, secret, \
                         allow_private, enabled, created_at) \
                         VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING ",
                        endpoint_columns!()
                    ))
                    .bind(endpoint.url.as_str())
                    .bind(endpoint.description.as_str())
                    .bind(endpoint.service.as_deref())
                    .bind(endpoint.secret.as_str())
                    .bind(endpoint.allow_private)
                    .bind(DbTime::from(endpoint.created_at))
                    .fetch_one(&mut *tx)
                    .await?;
                    let mut subscriptions = Vec::new();
                    for event in &endpoint.events {
                        sqlx::query(
                            "INSERT INTO webhook_subscriptions (endpoint_id, event) \
                             VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        )
                        .bind(row.id)
                        .bind(event.as_str())
                        .execute(&mut *tx)
                        .await?;
                        subscriptions.push((row.id, event.as_str().to_owned()));
                    }
                    tx.commit().await?;
                    let mut endpoint = row.with_events(&subscriptions)?;
                    endpoint.events.dedup();
                    Ok(endpoint)
                }

                async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
                    let rows = sqlx::query_as::<_, EndpointRow>(concat!(
                        "SELECT ",
                        endpoint_columns!(),
                        " FROM webhook_endpoints ORDER BY id"
                    ))
                    .fetch_all(self.reader())
                    .await?;
                    let subscriptions: Vec<(i64, String)> =
                        sqlx::query_as("SELECT endpoint_id, event FROM webhook_subscriptions")
                            .fetch_all(self.reader())
                            .await?;
                    rows.into_iter()
                        .map(|row| row.with_events(&subscriptions))
                        .collect()
                }

                async fn webhook_endpoint(&self, id: i64) -> Result<Option<WebhookEndpoint>> {
                    let Some(row) = sqlx::query_as::<_, EndpointRow>(concat!(
                        "SELECT ",
                        endpoint_columns!(),
                        " FROM webhook_endpoints WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    else {
                        return Ok(None);
                    };
                    let subscriptions: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT endpoint_id, event FROM webhook_subscriptions \
                         WHERE endpoint_id = $1",
                    )
                    .bind(id)
                    .fetch_all(self.reader())
                    .await?;
                    row.with_events(&subscriptions).map(Some)
                }

                async fn set_webhook_endpoint_enabled(&self, id: i64, enabled: bool) -> Result<()> {
                    let changed = sqlx::query("UPDATE webhook_endpoints SET enabled = $2 WHERE id = $1")
                        .bind(id)
                        .bind(enabled)
                        .execute(self.writer())
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Ok(())
                }

                async fn delete_webhook_endpoint(&self, id: i64) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let deliveries: Vec<i64> =
                        sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE endpoint_id = $1")
                            .bind(id)
                            .fetch_all(&mut *tx)
                            .await?;
                    for batch in deliveries.chunks(MAX_PARAMS) {
                        let mut sql = QueryBuilder::<Db>::new("DELETE FROM jobs WHERE key IN (");
                        let mut keys = sql.separated(", ");
                        for id in batch {
                            keys.push_bind(delivery_job_key(*id));
                        }
                        sql.push(")");
                        sql.build().execute(&mut *tx).await?;
                    }
                    for statement in [
                        "DELETE FROM webhook_deliveries WHERE endpoint_id = $1",
                        "DELETE FROM webhook_subscriptions WHERE endpoint_id = $1",
                    ] {
                        sqlx::query(statement).bind(id).execute(&mut *tx).await?;
                    }
                    let removed = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if removed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn webhook_deliveries(
                    &self,
                    endpoint_id: i64,
                    limit: u32,
                ) -> Result<Vec<WebhookDelivery>> {
                    sqlx::query_as::<_, DeliveryRow>(concat!(
                        "SELECT ",
                        delivery_columns!(),
                        " FROM webhook_deliveries d JOIN events e ON e.id = d.event_id \
                         WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2"
                    ))
                    .bind(endpoint_id)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(WebhookDelivery::try_from)
                    .collect()
                }

                async fn webhook_delivery_work(&self, id: i64) -> Result<Option<DeliveryWork>> {
                    sqlx::query_as::<_, WorkRow>(concat!(
                        "SELECT ",
                        delivery_columns!(),
                        ", ep.url, ep.secret, ep.allow_private, ep.enabled, c.service, \
                         d.case_state, e.at, e.data \
                         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id \
                         JOIN webhook_endpoints ep ON ep.id = d.endpoint_id \
                         JOIN cases c ON c.number = e.case_number WHERE d.id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .map(DeliveryWork::try_from)
                    .transpose()
                }

                async fn record_webhook_attempt(
                    &self,
                    id: i64,
                    attempt: &DeliveryAttempt,
                ) -> Result<()> {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, \
                         last_status = $3, last_error = $4, last_attempt_at = $5 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(attempt.status.as_str())
                    .bind(attempt.http_status)
                    .bind(attempt.error.as_deref())
                    .bind(DbTime::from(attempt.at))
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn resend_webhook_delivery(
                    &self,
                    endpoint_id: i64,
                    id: i64,
                    now: OffsetDateTime,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let found = sqlx::query(
                        "UPDATE webhook_deliveries SET status = $3 \
                         WHERE id = $1 AND endpoint_id = $2",
                    )
                    .bind(id)
                    .bind(endpoint_id)
                    .bind(DeliveryStatus::Pending.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if found == 0 {
                        return Err(StoreError::NotFound);
                    }
                    upsert_jobs(&mut tx, &[delivery_job(id, now)]).await?;
                    tx.commit().await?;
                    Ok(())
                }
            }

            /// Adds a delivery, with its job, for each of the events `event_ids` (just inserted,
            /// in this transaction) and each enabled endpoint that subscribes to it: its event
            /// (with the closed condition where that applies) and its service, or every service.
            pub(super) async fn insert_deliveries(conn: &mut Conn, event_ids: &[i64]) -> Result<()> {
                if event_ids.is_empty() {
                    return Ok(());
                }
                // Most councils have few endpoints, or none: then there is nothing to join.
                let any_endpoint: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled)",
                )
                .fetch_one(&mut *conn)
                .await?;
                if !any_endpoint {
                    return Ok(());
                }
                // The new events first, by their keys: left to choose, PostgreSQL kept a plan
                // made while the events table was small, and an import's batches of events each
                // took over a second, more as the table grew.
                let mut sql = QueryBuilder::<Db>::new(
                    "WITH new_events AS MATERIALIZED (SELECT id, case_number, kind, at \
                     FROM events WHERE id IN (",
                );
                let mut ids = sql.separated(", ");
                for id in event_ids {
                    ids.push_bind(*id);
                }
                sql.push(
                    ")) INSERT INTO webhook_deliveries \
                     (endpoint_id, event_id, event, case_state, status, created_at) \
                     SELECT ep.id, e.id, s.event, c.state, ",
                );
                sql.push_bind(DeliveryStatus::Pending.as_str());
                sql.push(
                    ", e.at FROM new_events e JOIN cases c ON c.number = e.case_number \
                     JOIN webhook_subscriptions s ON (",
                );
                for (i, event) in WebhookEvent::ALL.into_iter().enumerate() {
                    if i > 0 {
                        sql.push(" OR ");
                    }
                    sql.push("(s.event = ")
                        .push_bind(event.as_str())
                        .push(" AND e.kind = ")
                        .push_bind(event.event_kind());
                    if event.only_when_closed() {
                        sql.push(" AND NOT c.open");
                    }
                    sql.push(")");
                }
                sql.push(
                    ") JOIN webhook_endpoints ep ON ep.id = s.endpoint_id AND ep.enabled \
                     AND (ep.service IS NULL OR ep.service = c.service)",
                );
                sql.push(" RETURNING id, created_at");
                let deliveries: Vec<(i64, DbTime)> =
                    sql.build_query_as().fetch_all(&mut *conn).await?;
                for batch in deliveries.chunks(MAX_PARAMS / 4) {
                    let mut jobs =
                        QueryBuilder::<Db>::new("INSERT INTO jobs (kind, payload, run_at, key) ");
                    jobs.push_values(batch, |mut row, (id, at)| {
                        let job = delivery_job(*id, at.get());
                        row.push_bind(DELIVERY_JOB)
                            .push_bind(Json(job.payload))
                            .push_bind(*at)
                            .push_bind(delivery_job_key(*id));
                    });
                    jobs.build().execute(&mut *conn).await?;
                }
                Ok(())
            }
        }
    };
}
pub(crate) use impl_webhook_store;
