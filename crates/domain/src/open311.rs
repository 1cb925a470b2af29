//! Open311 GeoReport v2 as Casework's rules read it: a service's fields as a service
//! definition's attributes, a report's `attribute[code]` answers and location as a case's
//! answers, the reporter as the case's contact, a case's state as an Open311 status (and as
//! mySociety's finer statuses), the window a request search covers, and what an update from the
//! client may do to a case.

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::calendar::WorkingCalendar;
use crate::case::{Case, CaseError, Change, Channel, Contact, Language, Location};
use crate::service::answers::{FieldError, normalise_phone};
use crate::service::{Answers, Field, FieldKind, Role, Service};

/// The longest span a request search may cover, and what it covers when not told: the spec's
/// 90 days.
pub const WINDOW: Duration = Duration::days(90);
/// The most requests or updates one answer holds, as the spec has it.
pub const MAX_RESULTS: u32 = 1000;

/// The kinds of attribute the spec knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Datetime => "datetime",
            Self::Text => "text",
            Self::SingleValueList => "singlevaluelist",
            Self::MultiValueList => "multivaluelist",
        }
    }
}

/// One question of a service definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    /// From 1, in the order of the definition file.
    pub order: usize,
    pub description: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// The attributes a client asks a reporter for: the questions residents answer. Staff-only
/// fields are the council's own business and are left out. The first address and the first
/// location question are filled from the report's own location when not answered, so they are
/// never required of the client.
pub fn attributes(service: &Service) -> Vec<Attribute> {
    service
        .fields
        .iter()
        .filter(|field| !field.staff_only)
        .enumerate()
        .map(|(i, field)| {
            let from_location = filled_from_location(service, field);
            let (datatype, description) = match field.kind {
                FieldKind::Text => (Datatype::String, None),
                FieldKind::LongText => (Datatype::Text, None),
                FieldKind::Number => (Datatype::Number, None),
                FieldKind::Date => (
                    Datatype::Datetime,
                    Some("A date, as YYYY-MM-DD; a date and time is read as its date"),
                ),
                FieldKind::YesNo | FieldKind::SingleChoice => (Datatype::SingleValueList, None),
                FieldKind::MultipleChoice => (Datatype::MultiValueList, None),
                FieldKind::Email => (Datatype::String, Some("An email address")),
                FieldKind::Phone => (Datatype::String, Some("A UK phone number")),
                FieldKind::Address if from_location => (
                    Datatype::Text,
                    Some("One line of the address per line; address_string when not given"),
                ),
                FieldKind::Address => (Datatype::Text, Some("One line of the address per line")),
                FieldKind::Location if from_location => (
                    Datatype::String,
                    Some("Latitude and longitude as LAT,LONG; lat and long when not given"),
                ),
                FieldKind::Location => {
                    (Datatype::String, Some("Latitude and longitude as LAT,LONG"))
                }
            };
            let values = match field.kind {
                FieldKind::YesNo => vec![value("yes", "Yes"), value("no", "No")],
                _ => field
                    .choices
                    .iter()
                    .map(|c| value(&c.code, &c.label))
                    .collect(),
            };
            Attribute {
                code: field.code.clone(),
                datatype,
                required: field.required && !from_location,
                datatype_description: description.map(str::to_owned),
                order: i + 1,
                description: field.label.clone(),
                values,
            }
        })
        .collect()
}

fn value(key: &str, name: &str) -> AttributeValue {
    AttributeValue {
        key: key.to_owned(),
        name: name.to_owned(),
    }
}

/// Whether `field` is the service's first address question, or its first location question.
fn filled_from_location(service: &Service, field: &Field) -> bool {
    matches!(field.kind, FieldKind::Address | FieldKind::Location)
        && service
            .fields
            .iter()
            .find(|f| f.kind == field.kind && !f.staff_only)
            .is_some_and(|first| first.code == field.code)
}

/// One `attribute[code]` of a report with every value sent for it: a multivaluelist sends
/// `attribute[code][]` once for each value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeAnswer {
    pub code: String,
    pub values: Vec<String>,
}

/// A report's answers as the case's answers, before the service checks them. Problems are named
/// `answers.CODE`, as opening the case names its own.
pub fn answers(
    service: &Service,
    given: &[AttributeAnswer],
    location: &Location,
) -> Result<Answers, Vec<FieldError>> {
    let mut answers = Answers::new();
    let mut errors = Vec::new();
    for answer in given {
        let field = service.field(&answer.code).filter(|f| !f.staff_only);
        let Some(field) = field else {
            errors.push(FieldError::new(
                format!("answers.{}", answer.code),
                format!("\"{}\" is not a question for this service", answer.code),
            ));
            continue;
        };
        match answer_value(field, &answer.values) {
            Ok(value) => {
                answers.insert(field.code.clone(), value);
            }
            Err(message) => {
                errors.push(FieldError::new(format!("answers.{}", field.code), message))
            }
        }
    }
    for field in service
        .fields
        .iter()
        .filter(|f| filled_from_location(service, f))
    {
        if answers.contains_key(&field.code) {
            continue;
        }
        let from_location = match (field.kind, location.lat, location.long) {
            (FieldKind::Address, _, _) => location.address.clone().map(Value::String),
            (FieldKind::Location, Some(lat), Some(long)) => Some(point(lat, long)),
            _ => None,
        };
        if let Some(value) = from_location {
            answers.insert(field.code.clone(), value);
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn answer_value(field: &Field, values: &[String]) -> Result<Value, String> {
    if field.kind == FieldKind::MultipleChoice {
        return Ok(Value::Array(
            values.iter().map(|v| Value::String(v.clone())).collect(),
        ));
    }
    let [value] = values else {
        return Err(format!("Give one value for \"{}\"", field.code));
    };
    Ok(match field.kind {
        // A client that only knows datetimes sends one; the question is about the day.
        FieldKind::Date if value.len() > 10 && value.as_bytes()[10] == b'T' => {
            Value::String(value[..10].to_owned())
        }
        FieldKind::Location => match value
            .split_once(',')
            .map(|(lat, long)| (lat.trim().parse::<f64>(), long.trim().parse::<f64>()))
        {
            Some((Ok(lat), Ok(long))) => point(lat, long),
            // The service's own check names the question.
            _ => Value::String(value.clone()),
        },
        _ => Value::String(value.clone()),
    })
}

fn point(lat: f64, long: f64) -> Value {
    let mut point = Map::new();
    point.insert("lat".to_owned(), Value::from(lat));
    point.insert("long".to_owned(), Value::from(long));
    Value::Object(point)
}

/// Who made a report, as Open311 names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reporter {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The case's contact: the council writes by email when it has one, by text message to a
/// mobile, and otherwise by post.
pub fn contact(reporter: &Reporter) -> Contact {
    let name = [&reporter.first_name, &reporter.last_name]
        .into_iter()
        .flatten()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let has = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    let mobile = reporter
        .phone
        .as_deref()
        .and_then(normalise_phone)
        .is_some_and(|p| p.starts_with("07") || p.starts_with("+447"));
    let preferred_channel = if has(&reporter.email) {
        Channel::Email
    } else if mobile {
        Channel::Sms
    } else {
        Channel::Post
    };
    Contact {
        name,
        email: reporter.email.clone(),
        phone: reporter.phone.clone(),
        preferred_channel,
        language: Language::En,
    }
}

/// The spec's two statuses: a case is `closed` when its state is a closed one.
pub fn status(service: &Service, state: &str) -> &'static str {
    if service.workflow.is_closed(state) {
        "closed"
    } else {
        "open"
    }
}

/// mySociety's finer status for a state, read from the state's code and label: FixMyStreet shows
/// residents "fixed", "investigating" and so on. A state the words do not place is plain `open`
/// or `closed`.
pub fn detailed_status(service: &Service, state: &str) -> &'static str {
    let Some(found) = service.workflow.state(state) else {
        return "open";
    };
    let words = format!("{} {}", found.code, found.label)
        .to_lowercase()
        .replace('_', " ");
    let has = |any: &[&str]| any.iter().any(|w| words.contains(w));
    if found.closed {
        if has(&["duplicate"]) {
            "duplicate"
        } else if has(&["not council", "not responsible", "not ours"]) {
            "not_councils_responsibility"
        } else if has(&["referred", "referral"]) {
            "internal_referral"
        } else if has(&[
            "no further action",
            "not collectable",
            "could not",
            "cancelled",
        ]) {
            "no_further_action"
        } else if has(&[
            "fixed",
            "complete",
            "collected",
            "resolved",
            "repaired",
            "prevented",
            "secured",
        ]) {
            "fixed"
        } else {
            "closed"
        }
    } else if state == service.workflow.initial {
        "open"
    } else if has(&["investigat", "triage", "assess", "monitor"]) {
        "investigating"
    } else if has(&["schedul", "booked", "appointment", "planned"]) {
        "action_scheduled"
    } else {
        "in_progress"
    }
}

/// The earliest and latest time a search covers (the latest not included): `end_date` defaults to
/// now, or to 90 days after `start_date`; `start_date` to 90 days before the end. The two may be at
/// most 90 days apart.
pub fn window(
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), FieldError> {
    let end = match (start, end) {
        (_, Some(end)) => end,
        (Some(start), None) => start + WINDOW,
        (None, None) => now,
    };
    let start = start.unwrap_or(end - WINDOW);
    if end < start {
        return Err(FieldError::new(
            "end_date",
            "end_date must not be before start_date",
        ));
    }
    if end - start > WINDOW {
        return Err(FieldError::new(
            "start_date",
            "start_date and end_date may be at most 90 days apart",
        ));
    }
    Ok((start, end))
}

/// The statuses a client may send with an update (mySociety's list, in any case), and whether
/// each says the problem is still open.
pub fn client_status_is_open(status: &str) -> Option<bool> {
    match status.trim().to_ascii_uppercase().as_str() {
        "OPEN" | "IN_PROGRESS" | "ACTION_SCHEDULED" | "INVESTIGATING" | "REOPEN" | "FOR_TRIAGE" => {
            Some(true)
        }
        "CLOSED"
        | "FIXED"
        | "DUPLICATE"
        | "NOT_COUNCILS_RESPONSIBILITY"
        | "NO_FURTHER_ACTION"
        | "INTERNAL_REFERRAL" => Some(false),
        _ => None,
    }
}

/// An update a client sent about a case: what it says, and the status it gives the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUpdate {
    /// The client's name for itself, such as its API key's name.
    pub client: String,
    /// Who wrote it, if the client said.
    pub author: Option<String>,
    pub status: String,
    pub description: String,
    pub media_urls: Vec<String>,
}

/// Records a client's update on a case as a note. An update saying a closed problem is open
/// again reopens the case when its workflow has exactly one reopening transition from its state
/// that `role` may use; an update saying the problem is fixed closes nothing, since only staff
/// know which way a case closes. Either way the note tells staff what the client said.
pub fn client_update(
    case: &Case,
    service: &Service,
    calendar: &WorkingCalendar,
    role: Role,
    update: &ClientUpdate,
    now: OffsetDateTime,
) -> Result<Change, CaseError> {
    let status = update.status.trim().to_ascii_uppercase();
    let Some(open) = client_status_is_open(&status) else {
        return Err(CaseError::Invalid(vec![FieldError::new(
            "status",
            "Status must be one of OPEN, CLOSED, FIXED, IN_PROGRESS, ACTION_SCHEDULED, \
             INVESTIGATING, DUPLICATE, NOT_COUNCILS_RESPONSIBILITY, NO_FURTHER_ACTION, \
             INTERNAL_REFERRAL, REOPEN or FOR_TRIAGE",
        )]));
    };
    let mut change = Change {
        case: case.clone(),
        events: Vec::new(),
    };
    if open && !case.is_open() {
        let reopenings: Vec<_> = service
            .workflow
            .transitions_from(&case.state)
            .filter(|t| t.reopen && role >= t.role)
            .collect();
        if let [reopen] = reopenings[..] {
            change =
                case.transition(service, calendar, &reopen.code, role, &Answers::new(), now)?;
        }
    }
    let mut text = match &update.author {
        Some(author) => format!(
            "Update from {} by {author} (status {status})",
            update.client
        ),
        None => format!("Update from {} (status {status})", update.client),
    };
    let description = update.description.trim();
    if !description.is_empty() {
        text.push_str(":\n\n");
        text.push_str(description);
    }
    for url in &update.media_urls {
        text.push_str("\n\nPhoto: ");
        text.push_str(url);
    }
    let noted = change.case.add_note(&text, now).map_err(|e| match e {
        CaseError::Invalid(_) => CaseError::Invalid(vec![FieldError::new(
            "description",
            "Description must be 10,000 characters or fewer",
        )]),
        other => other,
    })?;
    change.events.extend(noted.events);
    change.case = noted.case;
    Ok(change)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::case::{CaseDraft, Reference, open_case};
    use crate::plan::ActionId;
    use crate::service::ServiceCatalogue;

    fn shipped() -> ServiceCatalogue {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        ServiceCatalogue::from_files(files.iter().map(|(f, t)| (f.as_str(), t.as_str()))).unwrap()
    }

    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    #[test]
    fn resident_fields_become_attributes_in_order() {
        let services = shipped();
        let bins = services.get("missed-bin").unwrap();
        let attributes = attributes(bins);
        let codes: Vec<&str> = attributes.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "address",
                "bin_type",
                "collection_date",
                "bin_out_by_7am",
                "assisted_collection",
                "access_notes"
            ],
            "staff-only fields are left out"
        );
        let orders: Vec<usize> = attributes.iter().map(|a| a.order).collect();
        assert_eq!(orders, [1, 2, 3, 4, 5, 6]);
        let address = &attributes[0];
        assert_eq!(address.datatype, Datatype::Text);
        assert!(!address.required, "filled from address_string");
        let bin_type = &attributes[1];
        assert_eq!(bin_type.datatype.as_str(), "singlevaluelist");
        assert!(bin_type.required);
        assert_eq!(
            bin_type.values[0],
            value("general", "General waste (black bin)")
        );
        assert_eq!(attributes[2].datatype, Datatype::Datetime);
        let yes_no = &attributes[3];
        assert_eq!(yes_no.values, [value("yes", "Yes"), value("no", "No")]);
        assert_eq!(attributes[5].datatype.as_str(), "text");
    }

    #[test]
    fn answers_take_the_reports_location_and_name_unknown_questions() {
        let services = shipped();
        let bins = services.get("missed-bin").unwrap();
        let location = Location {
            lat: Some(52.05),
            long: Some(-1.3),
            address: Some("12 Mill Lane".into()),
        };
        let given = vec![
            AttributeAnswer {
                code: "bin_type".into(),
                values: vec!["recycling".into()],
            },
            AttributeAnswer {
                code: "collection_date".into(),
                values: vec!["2026-12-01T07:00:00Z".into()],
            },
        ];
        let answers = answers(bins, &given, &location).unwrap();
        assert_eq!(answers["address"], json!("12 Mill Lane"));
        assert_eq!(answers["collection_date"], json!("2026-12-01"));
        let wrong = vec![
            AttributeAnswer {
                code: "crew".into(),
                values: vec!["Round 4".into()],
            },
            AttributeAnswer {
                code: "bin_type".into(),
                values: vec!["general".into(), "glass".into()],
            },
        ];
        let errors = super::answers(bins, &wrong, &Location::default()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["answers.crew", "answers.bin_type"]);
    }

    #[test]
    fn multivaluelists_and_locations_read_as_the_service_expects() {
        let services = shipped();
        for service in services.iter() {
            for field in &service.fields {
                let values = match field.kind {
                    FieldKind::MultipleChoice => {
                        vec![field.choices[0].code.clone(), field.choices[1].code.clone()]
                    }
                    FieldKind::Location => vec!["52.1, -1.2".into()],
                    _ => continue,
                };
                let value = answer_value(field, &values).unwrap();
                let checked = service
                    .check_answer_changes(&[(field.code.clone(), value)].into_iter().collect())
                    .unwrap();
                assert!(checked.contains_key(&field.code), "{}", field.code);
            }
        }
    }

    #[test]
    fn the_contact_prefers_email_then_a_mobile_then_post() {
        let mut reporter = Reporter {
            first_name: Some(" Amira ".into()),
            last_name: Some("Khan".into()),
            email: Some("amira@example.com".into()),
            phone: Some("07700 900123".into()),
        };
        let contact = contact(&reporter);
        assert_eq!(contact.name, "Amira Khan");
        assert_eq!(contact.preferred_channel, Channel::Email);
        reporter.email = None;
        assert_eq!(super::contact(&reporter).preferred_channel, Channel::Sms);
        reporter.phone = Some("01632 960001".into());
        assert_eq!(super::contact(&reporter).preferred_channel, Channel::Post);
    }

    #[test]
    fn states_read_as_open_or_closed_and_as_finer_statuses() {
        let services = shipped();
        let expect = [
            ("missed-bin", "reported", "open", "open"),
            ("missed-bin", "scheduled", "open", "action_scheduled"),
            ("missed-bin", "collected", "closed", "fixed"),
            (
                "missed-bin",
                "not_collectable",
                "closed",
                "no_further_action",
            ),
            ("housing-repair", "triaged", "open", "investigating"),
            (
                "housing-repair",
                "appointment_booked",
                "open",
                "action_scheduled",
            ),
            ("housing-repair", "awaiting_parts", "open", "in_progress"),
            ("housing-repair", "completed", "closed", "fixed"),
            ("housing-repair", "cancelled", "closed", "no_further_action"),
            (
                "noise-complaint",
                "closed_no_further_action",
                "closed",
                "no_further_action",
            ),
            ("noise-complaint", "resolved", "closed", "fixed"),
            ("homelessness-prevention", "duty_ended", "closed", "closed"),
        ];
        for (service, state, open, finer) in expect {
            let service = services.get(service).unwrap();
            assert_eq!(status(service, state), open, "{state}");
            assert_eq!(detailed_status(service, state), finer, "{state}");
        }
    }

    #[test]
    fn the_window_defaults_to_ninety_days_and_no_more() {
        let day = Duration::days(1);
        assert_eq!(window(None, None, NOW), Ok((NOW - WINDOW, NOW)));
        let start = NOW - 10 * day;
        assert_eq!(window(Some(start), None, NOW), Ok((start, start + WINDOW)));
        assert_eq!(window(None, Some(start), NOW), Ok((start - WINDOW, start)));
        assert_eq!(
            window(Some(NOW), Some(start), NOW).unwrap_err().field,
            "end_date"
        );
        let too_long = window(Some(NOW - 91 * day), Some(NOW), NOW).unwrap_err();
        assert_eq!(too_long.field, "start_date");
    }

    fn case(service: &Service, state: &str) -> Case {
        let calendar = WorkingCalendar::england_and_wales();
        let draft = CaseDraft {
            contact: Some(contact(&Reporter {
                first_name: Some("Ben".into()),
                email: Some("ben@example.com".into()),
                ..Reporter::default()
            })),
            answers: [
                ("address", json!("1 High Street")),
                ("bin_type", json!("general")),
                ("collection_date", json!("2026-12-01")),
                ("bin_out_by_7am", json!(true)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            ..CaseDraft::default()
        };
        let new = open_case(service, &calendar, draft, NOW, || {
            ActionId::new(uuid::Uuid::nil())
        })
        .unwrap()
        .case;
        let closed = service.workflow.is_closed(state);
        Case {
            reference: Reference::new(7),
            service: new.service,
            state: state.to_owned(),
            priority: new.priority,
            priority_rank: new.priority_rank,
            team: new.team,
            assignee: None,
            contact: new.contact,
            answers: new.answers,
            description: None,
            location: None,
            external: None,
            sla_due_at: new.sla_due_at,
            sla_breached_at: None,
            created_at: NOW,
            updated_at: NOW,
            closed_at: closed.then_some(NOW),
            version: 3,
        }
    }

    fn update(status: &str) -> ClientUpdate {
        ClientUpdate {
            client: "fixmystreet".into(),
            author: Some("Ben Jones".into()),
            status: status.into(),
            description: "Still not emptied".into(),
            media_urls: vec!["https://example.com/p.jpeg".into()],
        }
    }

    #[test]
    fn a_client_update_is_a_note_and_never_closes_a_case() {
        let services = shipped();
        let bins = services.get("missed-bin").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let open = case(bins, "reported");
        let change =
            client_update(&open, bins, &calendar, Role::Lead, &update("fixed"), NOW).unwrap();
        assert_eq!(change.case.state, "reported");
        let [crate::case::EventKind::NoteAdded { text }] = &change.events[..] else {
            panic!("one note: {:?}", change.events);
        };
        assert_eq!(
            text,
            "Update from fixmystreet by Ben Jones (status FIXED):\n\nStill not emptied\n\n\
             Photo: https://example.com/p.jpeg"
        );
        let bad = client_update(&open, bins, &calendar, Role::Lead, &update("mended"), NOW);
        assert!(matches!(bad, Err(CaseError::Invalid(e)) if e[0].field == "status"));
    }

    #[test]
    fn a_client_update_reopens_only_as_the_workflow_allows() {
        let services = shipped();
        let bins = services.get("missed-bin").unwrap();
        let calendar = WorkingCalendar::england_and_wales();
        let closed = case(bins, "collected");
        let reopened =
            client_update(&closed, bins, &calendar, Role::Lead, &update("REOPEN"), NOW).unwrap();
        assert_eq!(reopened.case.state, "reported");
        assert!(reopened.case.is_open());
        assert_eq!(reopened.events.len(), 2, "the transition, then the note");
        let agent =
            client_update(&closed, bins, &calendar, Role::Agent, &update("OPEN"), NOW).unwrap();
        assert_eq!(agent.case.state, "collected", "reopening needs a lead");
        assert_eq!(agent.events.len(), 1);
    }
}
