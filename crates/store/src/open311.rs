//! What Open311 GeoReport v2 needs kept: the scopes of API keys, the cases reported through it
//! with what their reports carried beyond the case, and the updates clients posted.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use casework_domain::case::{Actor, Case, EventKind, NewCase, Reference};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Event, Result};

/// What an API key may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// The JSON API under `/api/v1`.
    Api,
    /// Open311 GeoReport v2 under `/open311/v2`.
    Open311,
}

impl KeyScope {
    pub const ALL: [KeyScope; 2] = [Self::Api, Self::Open311];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Open311 => "open311",
        }
    }
}

impl fmt::Display for KeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope \"{0}\": expected api or open311")]
pub struct UnknownScope(pub String);

impl FromStr for KeyScope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// Scopes as the `scopes` column keeps them: each once, in order, comma-separated.
pub(crate) fn scopes_text(scopes: &[KeyScope]) -> String {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}

pub(crate) fn parse_scopes(text: &str) -> Result<Vec<KeyScope>, UnknownScope> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// What an Open311 report carried beyond the case it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpen311Request {
    pub api_key_id: i64,
    /// A hash of the token handed to the client.
    pub token_hash: String,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub address_id: Option<String>,
    pub media_urls: Vec<String>,
}

/// A case reported through Open311, with what its report carried.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Request {
    pub case: Case,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub address_id: Option<String>,
    pub media_urls: Vec<String>,
}

/// Which of a key's requests to list, newest first. Every filter is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Open311Filter {
    /// Only these cases; empty means any.
    pub references: Vec<Reference>,
    pub service: Option<String>,
    pub open: Option<bool>,
    pub created_from: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    pub limit: u32,
}

/// The Open311 side of the [`Store`](crate::Store).
#[async_trait]
pub trait Open311Store: Send + Sync {
    /// Stores a case reported through Open311 with its first events and what the report carried,
    /// in one transaction, and gives the case its reference.
    async fn insert_open311_case(
        &self,
        case: &NewCase,
        actor: &Actor,
        events: &[EventKind],
        request: &NewOpen311Request,
    ) -> Result<Case>;
    /// The requests that key `api_key_id` reported and `filter` finds, newest first.
    async fn open311_requests(
        &self,
        api_key_id: i64,
        filter: &Open311Filter,
    ) -> Result<Vec<Open311Request>>;
    /// The case that key `api_key_id` reported and was given the token with this hash for.
    async fn open311_token(&self, api_key_id: i64, token_hash: &str) -> Result<Option<Reference>>;
    /// The transitions of the cases that key `api_key_id` reported, from `from` until before
    /// `before`, oldest first.
    async fn open311_transitions(
        &self,
        api_key_id: i64,
        from: OffsetDateTime,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Event>>;
    /// The event that key `api_key_id`'s update with its own id `client_update_id` made.
    async fn open311_update_event(
        &self,
        api_key_id: i64,
        client_update_id: &str,
    ) -> Result<Option<i64>>;
    /// Saves a case changed by a client's update (its version must still be `case.version`) with
    /// its events, remembering the client's id for the update, in one transaction. Returns the
    /// id of the last event, which the client is given as the update's id; an update whose
    /// client id was saved already gives the id saved then, and changes nothing.
    async fn save_open311_update(
        &self,
        case: &Case,
        actor: &Actor,
        events: &[EventKind],
        api_key_id: i64,
        client_update_id: Option<&str>,
    ) -> Result<i64>;
}

/// Implements [`Open311Store`] for `$store`, a [`Backend`](crate::shared::Backend).
macro_rules! impl_open311_store {
    ($store:ident) => {
        mod open311_impl {
            use async_trait::async_trait;
            use casework_domain::case::{Actor, Case, EventKind, NewCase, Reference};
            use sqlx::QueryBuilder;
            use sqlx::types::Json;
            use time::OffsetDateTime;

            use super::plan_impl::insert_plans;
            use super::shared_impl::{insert_events, push_new_cases, save_case};
            use super::$store;
            use $crate::db_time::DbTime;
            use $crate::open311::{NewOpen311Request, Open311Filter, Open311Request, Open311Store};
            use $crate::rows::{CaseRow, EventRow, case_columns};
            use $crate::shared::Backend;
            use $crate::{Event, Result, StoreError};

            type Db = <$store as Backend>::Db;

            #[async_trait]
            impl Open311Store for $store {
                async fn insert_open311_case(
                    &self,
                    case: &NewCase,
                    actor: &Actor,
                    events: &[EventKind],
                    request: &NewOpen311Request,
                ) -> Result<Case> {
                    let mut tx = self.begin_write().await?;
                    let mut sql = QueryBuilder::new("");
                    push_new_cases(&mut sql, std::slice::from_ref(case));
                    sql.push(concat!(" RETURNING ", case_columns!()));
                    let row = sql.build_query_as::<CaseRow>().fetch_one(&mut *tx).await?;
                    let created_at = DbTime::from(case.created_at);
                    let number = row.number;
                    let events: Vec<_> = events
                        .iter()
                        .map(|event| (number, created_at, event))
                        .collect();
                    insert_events(&mut tx, actor, &events).await?;
                    insert_plans(&mut tx, &[(Reference::new(number), &case.plan, created_at)])
                        .await?;
                    sqlx::query(
                        "INSERT INTO open311_requests (case_number, api_key_id, token_hash, \
                         device_id, account_id, address_id, media_urls, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(number)
                    .bind(request.api_key_id)
                    .bind(request.token_hash.as_str())
                    .bind(request.device_id.as_deref())
                    .bind(request.account_id.as_deref())
                    .bind(request.address_id.as_deref())
                    .bind(Json(&request.media_urls))
                    .bind(created_at)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    row.try_into()
                }

                async fn open311_requests(
                    &self,
                    api_key_id: i64,
                    filter: &Open311Filter,
                ) -> Result<Vec<Open311Request>> {
                    let mut sql = QueryBuilder::<Db>::new(concat!(
                        "SELECT ",
                        case_columns!(),
                        " FROM cases WHERE number IN ",
                        "(SELECT case_number FROM open311_requests WHERE api_key_id = "
                    ));
                    sql.push_bind(api_key_id).push(")");
                    if !filter.references.is_empty() {
                        sql.push(" AND number IN (");
                        let mut numbers = sql.separated(", ");
                        for reference in &filter.references {
                            numbers.push_bind(reference.number());
                        }
                        sql.push(")");
                    }
                    if let Some(service) = &filter.service {
                        sql.push(" AND service = ").push_bind(service.clone());
                    }
                    match filter.open {
                        Some(true) => {
                            sql.push(" AND open");
                        }
                        Some(false) => {
                            sql.push(" AND NOT open");
                        }
                        None => {}
                    }
                    if let Some(from) = filter.created_from {
                        sql.push(" AND created_at >= ")
                            .push_bind(DbTime::from(from));
                    }
                    if let Some(before) = filter.created_before {
                        sql.push(" AND created_at < ")
                            .push_bind(DbTime::from(before));
                    }
                    sql.push(" ORDER BY created_at DESC, number DESC LIMIT ")
                        .push_bind(i64::from(filter.limit));
                    let cases: Vec<Case> = sql
                        .build_query_as::<CaseRow>()
                        .fetch_all(self.reader())
                        .await?
                        .into_iter()
                        .map(Case::try_from)
                        .collect::<Result<_>>()?;
                    if cases.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT case_number, device_id, account_id, address_id, media_urls \
                         FROM open311_requests WHERE case_number IN (",
                    );
                    let mut numbers = sql.separated(", ");
                    for case in &cases {
                        numbers.push_bind(case.reference.number());
                    }
                    sql.push(")");
                    type ReportRow = (
                        i64,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                        Json<Vec<String>>,
                    );
                    let mut reports: Vec<ReportRow> =
                        sql.build_query_as().fetch_all(self.reader()).await?;
                    cases
                        .into_iter()
                        .map(|case| {
                            let number = case.reference.number();
                            let at =
                                reports.iter().position(|r| r.0 == number).ok_or_else(|| {
                                    StoreError::Corrupt(format!(
                                        "open311 request {number} vanished while read"
                                    ))
                                })?;
                            let (_, device_id, account_id, address_id, media_urls) =
                                reports.swap_remove(at);
                            Ok(Open311Request {
                                case,
                                device_id,
                                account_id,
                                address_id,
                                media_urls: media_urls.0,
                            })
                        })
                        .collect()
                }

                async fn open311_token(
                    &self,
                    api_key_id: i64,
                    token_hash: &str,
                ) -> Result<Option<Reference>> {
                    let number: Option<i64> = sqlx::query_scalar(
                        "SELECT case_number FROM open311_requests \
                         WHERE api_key_id = $1 AND token_hash = $2",
                    )
                    .bind(api_key_id)
                    .bind(token_hash)
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(number.map(Reference::new))
                }

                async fn open311_transitions(
                    &self,
                    api_key_id: i64,
                    from: OffsetDateTime,
                    before: OffsetDateTime,
                    limit: u32,
                ) -> Result<Vec<Event>> {
                    sqlx::query_as::<_, EventRow>(
                        "SELECT id, case_number, at, actor, data FROM events \
                         WHERE kind = 'transitioned' AND at >= $2 AND at < $3 \
                         AND case_number IN \
                         (SELECT case_number FROM open311_requests WHERE api_key_id = $1) \
                         ORDER BY at, id LIMIT $4",
                    )
                    .bind(api_key_id)
                    .bind(DbTime::from(from))
                    .bind(DbTime::from(before))
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(Event::try_from)
                    .collect()
                }

                async fn open311_update_event(
                    &self,
                    api_key_id: i64,
                    client_update_id: &str,
                ) -> Result<Option<i64>> {
                    Ok(sqlx::query_scalar(
                        "SELECT event_id FROM open311_updates \
                         WHERE api_key_id = $1 AND client_update_id = $2",
                    )
                    .bind(api_key_id)
                    .bind(client_update_id)
                    .fetch_optional(self.reader())
                    .await?)
                }

                async fn save_open311_update(
                    &self,
                    case: &Case,
                    actor: &Actor,
                    events: &[EventKind],
                    api_key_id: i64,
                    client_update_id: Option<&str>,
                ) -> Result<i64> {
                    let mut tx = self.begin_write().await?;
                    if let Some(id) = client_update_id {
                        let saved: Option<i64> = sqlx::query_scalar(
                            "SELECT event_id FROM open311_updates \
                             WHERE api_key_id = $1 AND client_update_id = $2",
                        )
                        .bind(api_key_id)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some(event_id) = saved {
                            return Ok(event_id);
                        }
                    }
                    let row = save_case(&mut tx, case, actor, events).await?;
                    // The case's row is locked by the update above, so its last event is ours.
                    let event_id: i64 =
                        sqlx::query_scalar("SELECT MAX(id) FROM events WHERE case_number = $1")
                            .bind(row.number)
                            .fetch_one(&mut *tx)
                            .await?;
                    if let Some(id) = client_update_id {
                        sqlx::query(
                            "INSERT INTO open311_updates (api_key_id, client_update_id, event_id) \
                             VALUES ($1, $2, $3)",
                        )
                        .bind(api_key_id)
                        .bind(id)
                        .bind(event_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(event_id)
                }
            }
        }
    };
}
pub(crate) use impl_open311_store;
