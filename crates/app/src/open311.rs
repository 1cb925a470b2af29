//! Use cases for Open311 GeoReport v2 clients such as FixMyStreet: report a request, find the
//! requests a key reported, read their updates, and post an update from the client. A key sees
//! only the requests it reported: a case holds a resident's report, which is not for every
//! client to read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casework_domain::case::{self, CaseDraft, CaseError, EventKind, Location, Reference};
use casework_domain::open311::{self as rules, AttributeAnswer, ClientUpdate, Reporter};
use casework_domain::service::answers::FieldError;
use casework_store::{NewOpen311Request, Open311Filter, Open311Request, StoreError};
use rand::RngCore;
use time::OffsetDateTime;

use crate::api_keys::sha256_hex;
use crate::plans::new_action_id;
use crate::{App, AppError, Caller};

/// A request as a client reports it.
#[derive(Debug, Clone, Default)]
pub struct Open311Report {
    pub service_code: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub reporter: Reporter,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub description: Option<String>,
    pub media_urls: Vec<String>,
    pub attributes: Vec<AttributeAnswer>,
}

/// The case a report made, and the token the client may look it up by.
#[derive(Debug, Clone)]
pub struct Open311Receipt {
    pub request: Open311Request,
    pub token: String,
}

/// A search of a key's requests. `references`, when given, overrides the rest.
#[derive(Debug, Clone, Default)]
pub struct Open311Query {
    pub references: Vec<Reference>,
    pub service_code: Option<String>,
    /// `Some(true)` for open requests, `Some(false)` for closed ones.
    pub open: Option<bool>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

/// A change of a request's state, as an update for the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Update {
    pub id: i64,
    pub case: Reference,
    /// mySociety's status for the state the case moved to.
    pub status: &'static str,
    pub at: OffsetDateTime,
    /// The state's name, as staff see it.
    pub description: String,
}

/// An update a client posts about one of its requests.
#[derive(Debug, Clone)]
pub struct Open311UpdateRequest {
    pub reference: Reference,
    /// The client's own id for the update, so that a retry is recorded once.
    pub client_update_id: Option<String>,
    pub status: String,
    pub description: String,
    pub author: Option<String>,
    pub media_urls: Vec<String>,
}

/// How often a client's update is tried again when staff change the case at the same moment.
const UPDATE_ATTEMPTS: usize = 3;

impl App {
    /// Reports a case from an Open311 client, recording who made it (the key's name) and what
    /// the report carried.
    pub async fn open311_report(
        &self,
        caller: &Caller,
        report: Open311Report,
    ) -> Result<Open311Receipt, AppError> {
        let api_key_id = key_of(caller)?;
        let service = self.service(&report.service_code)?;
        if report.lat.is_none()
            && report.long.is_none()
            && blank(&report.address_string)
            && blank(&report.address_id)
        {
            return Err(CaseError::Invalid(vec![FieldError::new(
                "location",
                "Give a location: lat and long, address_string or address_id",
            )])
            .into());
        }
        let address = report
            .address_string
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| {
                // An address id (a UPRN, say) is all staff have to go on without an address.
                report
                    .address_id
                    .as_ref()
                    .map(|id| format!("Address ID {id}"))
            });
        let location = Location {
            lat: report.lat,
            long: report.long,
            address,
        };
        let answers =
            rules::answers(service, &report.attributes, &location).map_err(CaseError::Invalid)?;
        let draft = CaseDraft {
            contact: Some(rules::contact(&report.reporter)),
            answers,
            description: report.description.clone(),
            location: Some(location),
            ..CaseDraft::default()
        };
        let opening = case::open_case(service, &self.calendar, draft, self.now(), new_action_id)?;
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let request = NewOpen311Request {
            api_key_id,
            token_hash: sha256_hex(token.as_bytes()),
            device_id: report.device_id,
            account_id: report.account_id,
            address_id: report.address_id,
            media_urls: report.media_urls,
        };
        let case = self
            .store
            .insert_open311_case(&opening.case, &caller.actor, &opening.events, &request)
            .await?;
        Ok(Open311Receipt {
            request: Open311Request {
                case,
                device_id: request.device_id,
                account_id: request.account_id,
                address_id: request.address_id,
                media_urls: request.media_urls,
            },
            token,
        })
    }

    /// The caller's requests that `query` finds, newest first, at most 1,000. Without
    /// references, they are those made within the query's window (the last 90 days unless
    /// told).
    pub async fn open311_requests(
        &self,
        caller: &Caller,
        query: &Open311Query,
    ) -> Result<Vec<Open311Request>, AppError> {
        let api_key_id = key_of(caller)?;
        let filter = if query.references.is_empty() {
            let (from, before) = rules::window(query.start, query.end, self.now())
                .map_err(|e| AppError::Invalid(vec![e]))?;
            Open311Filter {
                service: query.service_code.clone(),
                open: query.open,
                created_from: Some(from),
                created_before: Some(before),
                limit: rules::MAX_RESULTS,
                ..Open311Filter::default()
            }
        } else {
            Open311Filter {
                references: query.references.clone(),
                limit: rules::MAX_RESULTS,
                ..Open311Filter::default()
            }
        };
        Ok(self.store.open311_requests(api_key_id, &filter).await?)
    }

    /// One of the caller's requests.
    pub async fn open311_request(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<Open311Request, AppError> {
        let query = Open311Query {
            references: vec![reference],
            ..Open311Query::default()
        };
        self.open311_requests(caller, &query)
            .await?
            .pop()
            .ok_or(AppError::CaseNotFound(reference))
    }

    /// The request the caller was given `token` for, if it was.
    pub async fn open311_token(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<Option<Reference>, AppError> {
        let api_key_id = key_of(caller)?;
        Ok(self
            .store
            .open311_token(api_key_id, &sha256_hex(token.as_bytes()))
            .await?)
    }

    /// The changes of state of the caller's requests within the window, oldest first, at most
    /// 1,000.
    pub async fn open311_updates(
        &self,
        caller: &Caller,
        start: Option<OffsetDateTime>,
        end: Option<OffsetDateTime>,
    ) -> Result<Vec<Open311Update>, AppError> {
        let api_key_id = key_of(caller)?;
        let (from, before) =
            rules::window(start, end, self.now()).map_err(|e| AppError::Invalid(vec![e]))?;
        let events = self
            .store
            .open311_transitions(api_key_id, from, before, rules::MAX_RESULTS)
            .await?;
        let mut references: Vec<Reference> = events.iter().map(|e| e.case).collect();
        references.sort();
        references.dedup();
        let filter = Open311Filter {
            limit: u32::try_from(references.len()).unwrap_or(u32::MAX),
            references,
            ..Open311Filter::default()
        };
        let requests = self.store.open311_requests(api_key_id, &filter).await?;
        let mut updates = Vec::with_capacity(events.len());
        for event in events {
            let EventKind::Transitioned { to, .. } = &event.kind else {
                continue;
            };
            let Some(request) = requests.iter().find(|r| r.case.reference == event.case) else {
                continue;
            };
            let service = self.service(&request.case.service)?;
            let description = service
                .workflow
                .state(to)
                .map_or_else(|| to.clone(), |s| s.label.clone());
            updates.push(Open311Update {
                id: event.id,
                case: event.case,
                status: rules::detailed_status(service, to),
                at: event.at,
                description,
            });
        }
        Ok(updates)
    }

    /// Records a client's update on one of its requests (see
    /// [`client_update`](rules::client_update)) and returns the update's id. The same client id
    /// sent again gives the same id and records nothing more.
    pub async fn open311_post_update(
        &self,
        caller: &Caller,
        request: Open311UpdateRequest,
    ) -> Result<i64, AppError> {
        let api_key_id = key_of(caller)?;
        if let Some(id) = &request.client_update_id
            && let Some(saved) = self.store.open311_update_event(api_key_id, id).await?
        {
            return Ok(saved);
        }
        let mut case = self.open311_request(caller, request.reference).await?.case;
        let client = match &caller.actor {
            case::Actor::ApiClient(name) => name.clone(),
            other => other.to_string(),
        };
        let update = ClientUpdate {
            client,
            author: request.author.clone(),
            status: request.status.clone(),
            description: request.description.clone(),
            media_urls: request.media_urls.clone(),
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let service = self.service(&case.service)?;
            let change = rules::client_update(
                &case,
                service,
                &self.calendar,
                caller.role,
                &update,
                self.now(),
            )?;
            let saved = self
                .store
                .save_open311_update(
                    &change.case,
                    &caller.actor,
                    &change.events,
                    api_key_id,
                    request.client_update_id.as_deref(),
                )
                .await;
            match saved {
                Ok(id) => return Ok(id),
                Err(StoreError::Conflict { current, .. }) if attempts < UPDATE_ATTEMPTS => {
                    case = *current;
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
}

/// The key an Open311 caller came with: requests belong to the key that reported them.
fn key_of(caller: &Caller) -> Result<i64, AppError> {
    caller.api_key_id.ok_or_else(|| {
        AppError::Invalid(vec![FieldError::new(
            "api_key",
            "Send an API key made for Open311",
        )])
    })
}

fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}
