//! Use cases on cases: report, read, list, change, transition, assign, note.

use casework_domain::case::{self, Case, CaseDraft, CaseError, Change, Reference, ReportedVia};
use casework_domain::service::Answers;
use casework_domain::service::Service;
use casework_domain::service::answers::FieldError;
use casework_store::{
    CaseFilter, CasePage, CaseQuery, Event, IdempotencyClaim, PriorityRank, StoreError,
};

use crate::plans::new_action_id;
use crate::{App, AppError, Caller};

/// A request to report a new case, with the client's idempotency key if it sent one.
#[derive(Debug, Clone)]
pub struct NewCaseRequest {
    pub service: String,
    pub draft: CaseDraft,
    /// The client's `Idempotency-Key` and a hash of what it sent with it.
    pub idempotency: Option<(String, String)>,
}

/// A change to a case's answers or priority, made against the version the caller read.
#[derive(Debug, Clone, Default)]
pub struct CaseChangeRequest {
    pub version: i64,
    pub answers: Option<Answers>,
    pub priority: Option<String>,
}

impl App {
    pub(crate) fn service(&self, code: &str) -> Result<&Service, AppError> {
        self.services
            .get(code)
            .ok_or_else(|| AppError::UnknownService(code.to_owned()))
    }

    /// Reports a new case. Returns the case and whether it was made now (`false` when an
    /// earlier request with the same idempotency key made it).
    pub async fn create_case(
        &self,
        caller: &Caller,
        request: NewCaseRequest,
    ) -> Result<(Case, bool), AppError> {
        self.create_case_via(caller, request, None).await
    }

    /// [`App::create_case`], recording on the new case's first event the front door it came
    /// in by, if it was one of Casework's own.
    pub(crate) async fn create_case_via(
        &self,
        caller: &Caller,
        request: NewCaseRequest,
        via: Option<ReportedVia>,
    ) -> Result<(Case, bool), AppError> {
        let claim = match (&request.idempotency, caller.api_key_id) {
            (Some((key, hash)), Some(api_key_id)) => Some(IdempotencyClaim {
                api_key_id,
                key: key.clone(),
                request_hash: hash.clone(),
            }),
            _ => None,
        };
        if let Some(claim) = &claim
            && let Some(replayed) = self.replay(caller, claim).await?
        {
            return Ok((replayed, false));
        }
        let service = self.service(&request.service)?;
        let opening = case::open_case(
            service,
            &self.calendar,
            request.draft,
            self.now(),
            new_action_id,
        )?;
        let opening = match via {
            Some(via) => opening.reported_via(via),
            None => opening,
        };
        let stored = self
            .store
            .insert_case(
                &opening.case,
                &caller.actor,
                &opening.events,
                &[],
                claim.as_ref(),
            )
            .await;
        match stored {
            Ok(created) => Ok((created, true)),
            Err(StoreError::IdempotencyReplay { .. }) => {
                // Another request with the same key committed first; answer as it did.
                let claim = claim.as_ref().expect("a replay needs a claim");
                match self.replay(caller, claim).await? {
                    Some(case) => Ok((case, false)),
                    None => Err(AppError::IdempotencyMismatch),
                }
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn replay(
        &self,
        caller: &Caller,
        claim: &IdempotencyClaim,
    ) -> Result<Option<Case>, AppError> {
        let Some((hash, reference)) = self
            .store
            .idempotent_case(claim.api_key_id, &claim.key)
            .await?
        else {
            return Ok(None);
        };
        if hash != claim.request_hash {
            return Err(AppError::IdempotencyMismatch);
        }
        self.case(caller, reference).await.map(Some)
    }

    /// Ranks every stored case's priority by its service's list as the loaded definitions have
    /// it, for sorting by priority: run at start, so that cases stored before the ranks existed,
    /// or before a definition reordered its priorities, sort as the definitions say. Returns how
    /// many cases it re-ranked.
    pub async fn rank_priorities(&self) -> Result<u64, AppError> {
        let ranks: Vec<PriorityRank> = self
            .services
            .iter()
            .flat_map(|service| {
                service.priorities.iter().map(|priority| PriorityRank {
                    service: service.code.clone(),
                    priority: priority.code.clone(),
                    rank: service.priority_rank(&priority.code),
                })
            })
            .collect();
        Ok(self.store.rank_priorities(&ranks).await?)
    }

    /// The case, if the caller may see it: one outside their teams is not found.
    pub async fn case(&self, caller: &Caller, reference: Reference) -> Result<Case, AppError> {
        self.store
            .case(reference)
            .await?
            .filter(|case| caller.works(&case.team))
            .ok_or(AppError::CaseNotFound(reference))
    }

    /// The cases `query` finds among those the caller may see.
    pub async fn list_cases(
        &self,
        caller: &Caller,
        query: &CaseQuery,
    ) -> Result<CasePage, AppError> {
        let Some(filter) = caller.scope(&query.filter) else {
            return Ok(CasePage {
                cases: Vec::new(),
                next: None,
            });
        };
        let query = CaseQuery {
            filter,
            ..query.clone()
        };
        Ok(self.store.list_cases(&query).await?)
    }

    pub async fn count_cases(&self, caller: &Caller, filter: &CaseFilter) -> Result<i64, AppError> {
        match caller.scope(filter) {
            Some(filter) => Ok(self.store.count_cases(&filter).await?),
            None => Ok(0),
        }
    }

    /// Counts the caller's matching cases up to `limit`; `limit` means "that many or more".
    pub async fn count_cases_up_to(
        &self,
        caller: &Caller,
        filter: &CaseFilter,
        limit: i64,
    ) -> Result<i64, AppError> {
        match caller.scope(filter) {
            Some(filter) => Ok(self.store.count_cases_up_to(&filter, limit).await?),
            None => Ok(0),
        }
    }

    pub async fn events(
        &self,
        caller: &Caller,
        reference: Reference,
    ) -> Result<Vec<Event>, AppError> {
        self.case(caller, reference).await?;
        Ok(self.store.events(reference).await?)
    }

    /// Changes a case's answers and priority in one step.
    pub async fn change_case(
        &self,
        caller: &Caller,
        reference: Reference,
        request: CaseChangeRequest,
    ) -> Result<Case, AppError> {
        let now = self.now();
        self.decide(caller, reference, request.version, |case, service| {
            let mut change = match &request.answers {
                Some(answers) => case.change_answers(service, answers, now)?,
                None => Change {
                    case: case.clone(),
                    events: Vec::new(),
                },
            };
            if let Some(priority) = &request.priority {
                let next = change
                    .case
                    .change_priority(service, &self.calendar, priority, now)?;
                change.events.extend(next.events);
                change.case = next.case;
            }
            Ok(change)
        })
        .await
    }

    pub async fn transition_case(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        transition: &str,
        answers: &Answers,
    ) -> Result<Case, AppError> {
        let now = self.now();
        self.decide(caller, reference, version, |case, service| {
            case.transition(
                service,
                &self.calendar,
                transition,
                caller.role,
                answers,
                now,
            )
        })
        .await
    }

    /// Gives the case to a team and a person in it (see `access` for who may). A member of
    /// staff assigns to an active member of staff of the case's team, named by email; other
    /// systems may name their own people.
    pub async fn assign_case(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        team: Option<String>,
        assignee: Option<String>,
    ) -> Result<Case, AppError> {
        let current = self.current(caller, reference, version).await?;
        let team = team.map(|t| t.trim().to_owned());
        let mut assignee = assignee
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty());
        let to_team = team.as_deref().unwrap_or(&current.team);
        caller.may_assign(&current, to_team, assignee.as_deref())?;
        if caller.teams.is_some()
            && let Some(email) = &assignee
            && (current.assignee.as_ref() != Some(email) || to_team != current.team)
        {
            let staff = self.store.staff_by_email(email).await?;
            match staff.filter(|s| s.active && s.teams.iter().any(|t| t == to_team)) {
                // As the staff record spells it, so that their queue finds the case.
                Some(staff) => assignee = Some(staff.email),
                None => {
                    let teams = self.store.teams().await?;
                    let team = teams
                        .iter()
                        .find(|t| t.code == to_team)
                        .map_or(to_team, |t| t.name.as_str());
                    return Err(CaseError::Invalid(vec![FieldError::new(
                        "assignee",
                        format!("Choose someone who works in the {team} team"),
                    )])
                    .into());
                }
            }
        }
        let now = self.now();
        let change = current.assign(team, assignee, now)?;
        self.save(caller, change).await
    }

    pub async fn add_note(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        text: &str,
    ) -> Result<Case, AppError> {
        let now = self.now();
        self.decide(caller, reference, version, |case, _| {
            case.add_note(text, now)
        })
        .await
    }

    /// The shape of every change: load the case, refuse a stale version, ask the domain, and
    /// save the decision with its events and jobs in one transaction.
    pub(crate) async fn decide(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
        decide: impl FnOnce(&Case, &Service) -> Result<Change, case::CaseError>,
    ) -> Result<Case, AppError> {
        let current = self.current(caller, reference, version).await?;
        let service = self.service(&current.service)?;
        let change = decide(&current, service)?;
        self.save(caller, change).await
    }

    /// The case the caller is about to change, if they may see it and read its `version`.
    /// Outside their teams it is not found before its version is compared, so that a conflict
    /// cannot tell them it exists.
    async fn current(
        &self,
        caller: &Caller,
        reference: Reference,
        version: i64,
    ) -> Result<Case, AppError> {
        let current = self.case(caller, reference).await?;
        if current.version != version {
            return Err(AppError::Conflict {
                expected: version,
                current: Box::new(current),
            });
        }
        Ok(current)
    }

    pub(crate) async fn save(&self, caller: &Caller, change: Change) -> Result<Case, AppError> {
        if change.is_empty() {
            return Ok(change.case);
        }
        Ok(self
            .store
            .update_case(&change.case, &caller.actor, &change.events, &[])
            .await?)
    }
}
