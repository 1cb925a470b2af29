//! The resident request form's use case: a resident reports a request through the web form.
//! The case is opened as any other (through `create_case`), by the resident, recorded as come
//! in by the web form; then the service's `confirmation` message, if it has one, goes into the
//! outbox for the worker to send. Before that, two guards: a limit on requests from one client
//! address, and a question when the same person reported the same service lately.

use std::collections::BTreeMap;
use std::net::IpAddr;

use casework_domain::case::{
    Actor, Case, CaseDraft, CaseError, Contact, Location, Reference, ReportedVia,
};
use casework_domain::message::{self, MessageChannel, MessageDraft};
use casework_domain::service::Role;
use casework_domain::service::answers::{FieldError, answers_too_large};
use casework_domain::service::{Answers, Service};
use serde_json::json;
use time::Duration;

use crate::staff::failure_key;
use crate::{App, AppError, Caller, NewCaseRequest, SIGN_IN_WINDOW};

/// A request from the same email address or phone number for the same service within this
/// long is probably the same one again: the resident is asked before a second case is made.
pub const DUPLICATE_WINDOW: Duration = Duration::hours(24);
/// Requests sent from one client address within [`SIGN_IN_WINDOW`] before that address is
/// refused for a while: a household reporting a few things gets nowhere near it; a program
/// filling the worktray soon does.
pub const MAX_REQUESTS_PER_CLIENT: i64 = 10;
/// The template a service sends the resident as soon as their request is made.
pub const CONFIRMATION_TEMPLATE: &str = "confirmation";

/// What a resident sends from the request form's last page.
#[derive(Debug, Clone)]
pub struct ResidentRequest {
    pub service: String,
    pub answers: Answers,
    pub contact: Contact,
    /// Location questions answered in words (there is no map without JavaScript), by the
    /// question's code. Each answers its question, and the first is the case's location.
    pub places: BTreeMap<String, String>,
    /// The resident was asked and said this is not the request they made lately.
    pub confirmed_new: bool,
    /// The client's address, for the limit on requests from one place.
    pub client: Option<IpAddr>,
}

/// What became of a resident's request.
#[derive(Debug, Clone)]
pub enum RequestOutcome {
    /// The case is made. `confirmation` is the channel its confirmation message was queued
    /// on, if the service has one and it could be queued.
    Reported {
        case: Box<Case>,
        confirmation: Option<MessageChannel>,
    },
    /// The same person reported this service lately, as this case: ask whether it is the same.
    PossibleDuplicate(Reference),
    /// Too many requests came from this address lately; nothing was made.
    TooMany,
}

impl App {
    /// Reports a resident's request from the web form (see the module's notes).
    pub async fn report_request(
        &self,
        request: ResidentRequest,
    ) -> Result<RequestOutcome, AppError> {
        let service = self.service(&request.service)?;
        let mut answers = request.answers;
        for (code, place) in &request.places {
            answers.insert(code.clone(), json!({ "address": place }));
        }
        if self.requests_refused(request.client).await? {
            return Ok(RequestOutcome::TooMany);
        }
        self.count_request(request.client).await?;
        if answers_too_large(&answers) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "answers",
                "Your answers are too long: shorten the longest ones",
            )]));
        }
        let contact = request.contact.checked().map_err(CaseError::Invalid)?;
        if !request.confirmed_new
            && let Some(earlier) = self
                .store
                .recent_case_from_contact(
                    &service.code,
                    contact.email.as_deref(),
                    contact.phone.as_deref(),
                    self.now() - DUPLICATE_WINDOW,
                )
                .await?
        {
            return Ok(RequestOutcome::PossibleDuplicate(earlier));
        }
        let resident = resident();
        let new_case = NewCaseRequest {
            service: service.code.clone(),
            draft: CaseDraft {
                contact: Some(contact),
                answers,
                location: request.places.into_values().next().map(|address| Location {
                    address: Some(address),
                    ..Location::default()
                }),
                ..CaseDraft::default()
            },
            idempotency: None,
        };
        let (case, _) = self
            .create_case_via(&resident, new_case, Some(ReportedVia::WebForm))
            .await?;
        let confirmation = self.confirm(&resident, service, &case).await;
        Ok(RequestOutcome::Reported {
            case: Box::new(case),
            confirmation,
        })
    }

    /// Whether `client` has sent too many requests lately to be answered now. Counted with
    /// failed sign-ins, in the database, so that every replica sees them.
    pub async fn requests_refused(&self, client: Option<IpAddr>) -> Result<bool, AppError> {
        let Some(ip) = client else {
            return Ok(false);
        };
        let since = self.now() - SIGN_IN_WINDOW;
        Ok(self.store.sign_in_failures(&request_key(ip), since).await? >= MAX_REQUESTS_PER_CLIENT)
    }

    async fn count_request(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = client else {
            return Ok(());
        };
        let now = self.now();
        self.store
            .record_sign_in_failure(&[request_key(ip)], now, now - SIGN_IN_WINDOW)
            .await?;
        Ok(())
    }

    /// Queues the service's confirmation to the resident by their preferred channel. The case
    /// is made whatever happens here: a confirmation that cannot be queued is logged for an
    /// operator, and the resident still gets their reference on the page.
    async fn confirm(
        &self,
        resident: &Caller,
        service: &Service,
        case: &Case,
    ) -> Option<MessageChannel> {
        let template = service
            .templates
            .iter()
            .find(|t| t.code == CONFIRMATION_TEMPLATE)?;
        let values = message::case_values(case, service);
        let (body, _) = message::fill(&template.body, &values);
        let subject = template
            .subject
            .as_deref()
            .map(|subject| message::fill(subject, &values).0);
        let draft = MessageDraft {
            channel: None,
            subject,
            body,
            template: Some(template.code.clone()),
        };
        match self.send_message(resident, case.reference, draft).await {
            Ok(sent) => Some(sent.channel),
            Err(error) => {
                tracing::error!(
                    reference = %case.reference,
                    %error,
                    "the confirmation of a resident's request could not be queued"
                );
                None
            }
        }
    }
}

/// The resident, as the author of their own request and its confirmation. They may reach only
/// the case they are making: this caller is never handed to anything else.
fn resident() -> Caller {
    Caller {
        actor: Actor::Resident,
        role: Role::Agent,
        api_key_id: None,
        teams: None,
    }
}

fn request_key(ip: IpAddr) -> String {
    failure_key("request", &ip.to_string())
}
