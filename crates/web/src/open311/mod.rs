//! Open311 GeoReport v2 under `/open311/v2`, in JSON and XML (the resource's `.json` or `.xml`
//! suffix chooses), with mySociety's `servicerequestupdates` so that FixMyStreet can send and
//! receive updates. The service list, the service definitions and discovery are public; every
//! call about requests needs an API key made for Open311, sent as `api_key`, and sees only the
//! requests that key reported.

mod document;
mod error;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use casework_app::domain::case::Reference;
use casework_app::domain::open311::{self as rules, AttributeAnswer, Reporter};
use casework_app::domain::service::answers::FieldError;
use casework_app::store::{KeyScope, Open311Request};
use casework_app::{App, Caller, KeyCheck, Open311Query, Open311Report, Open311UpdateRequest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use self::document::{Document, Format, Node};
use self::error::Open311Error;
use crate::BaseUrl;

const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// The longest photo address kept.
const MAX_URL: usize = 2_000;

/// When this server started: the discovery document's changeset, since the services it lists
/// are loaded at start.
#[derive(Debug, Clone, Copy)]
struct Changeset(OffsetDateTime);

pub(crate) fn router() -> Router<App> {
    let routes = Router::new()
        .route("/{file}", get(read).post(write))
        .route("/services/{file}", get(service_definition))
        .route("/requests/{file}", get(one_request))
        .route("/tokens/{file}", get(token))
        .fallback(|| async {
            Open311Error::not_found(Format::Xml, "There is no such Open311 resource")
        });
    Router::new()
        .nest("/open311/v2", routes)
        .layer(Extension(Changeset(OffsetDateTime::now_utc())))
}

type Answer = Result<Document, Open311Error>;

/// The resource's name and format, or a 404 for a file that names none.
fn resource(file: &str) -> Result<(&str, Format), Open311Error> {
    Format::split(file).ok_or_else(|| {
        Open311Error::not_found(
            Format::Xml,
            "There is no such Open311 resource: add .xml or .json to its name",
        )
    })
}

async fn read(
    State(app): State<App>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    Extension(base): Extension<BaseUrl>,
    Extension(changeset): Extension<Changeset>,
) -> Response {
    let answer = async {
        let (name, format) = resource(&file)?;
        let params = Params::parse(query.as_deref().unwrap_or_default().as_bytes());
        match name {
            "discovery" => Ok(discovery(format, &base, changeset)),
            "services" => Ok(services(&app, format)),
            "requests" => list_requests(&app, format, &params).await,
            "servicerequestupdates" => list_updates(&app, format, &params).await,
            _ => Err(no_such_resource(format)),
        }
    };
    answer.await.into_response()
}

async fn write(
    State(app): State<App>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let answer = async {
        let (name, format) = resource(&file)?;
        // The key may come in the query string as well as in the form.
        let mut params = Params::parse(&body);
        params
            .0
            .extend(Params::parse(query.as_deref().unwrap_or_default().as_bytes()).0);
        match name {
            "requests" => create_request(&app, format, &params).await,
            "servicerequestupdates" => post_update(&app, format, &params).await,
            _ => Err(no_such_resource(format)),
        }
    };
    answer.await.into_response()
}

fn no_such_resource(format: Format) -> Open311Error {
    Open311Error::not_found(format, "There is no such Open311 resource")
}

/// Form or query-string arguments, in the order sent.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(bytes: &[u8]) -> Self {
        Self(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value given for `name`, trimmed, unless blank.
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_owned())
            .collect()
    }

    fn number(&self, name: &str, problems: &mut Vec<FieldError>) -> Option<f64> {
        let text = self.text(name)?;
        match text.parse::<f64>() {
            Ok(number) if number.is_finite() => Some(number),
            _ => {
                problems.push(FieldError::new(name, "Give a number in decimal degrees"));
                None
            }
        }
    }

    /// A W3C date and time. A `+` in an offset that was not encoded arrives as a space.
    fn datetime(&self, name: &str, problems: &mut Vec<FieldError>) -> Option<OffsetDateTime> {
        let text = self.text(name)?;
        match OffsetDateTime::parse(&text.replace(' ', "+"), &Rfc3339) {
            Ok(at) => Some(at),
            Err(_) => {
                problems.push(FieldError::new(
                    name,
                    "Give a date and time with its time zone, like 2026-12-04T09:30:00Z",
                ));
                None
            }
        }
    }

    /// `attribute[code]` and `attribute[code][]` answers, each code once with all its values.
    fn attributes(&self) -> Vec<AttributeAnswer> {
        let mut answers: Vec<AttributeAnswer> = Vec::new();
        for (key, value) in &self.0 {
            let Some(code) = key
                .strip_prefix("attribute[")
                .map(|rest| rest.strip_suffix("[]").unwrap_or(rest))
                .and_then(|rest| rest.strip_suffix(']'))
            else {
                continue;
            };
            match answers.iter_mut().find(|a| a.code == code) {
                Some(answer) => answer.values.push(value.clone()),
                None => answers.push(AttributeAnswer {
                    code: code.to_owned(),
                    values: vec![value.clone()],
                }),
            }
        }
        answers
    }

    fn media_urls(&self, problems: &mut Vec<FieldError>) -> Vec<String> {
        let urls = self.all("media_url");
        if urls.iter().any(|url| {
            !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > MAX_URL
        }) {
            problems.push(FieldError::new(
                "media_url",
                "Give the address of the photo, starting https://",
            ));
        }
        urls
    }

    fn reporter(&self) -> Reporter {
        Reporter {
            first_name: self.text("first_name"),
            last_name: self.text("last_name"),
            email: self.text("email"),
            phone: self.text("phone"),
        }
    }
}

/// The client that sent `api_key`, if the key was made for Open311.
async fn caller(app: &App, format: Format, params: &Params) -> Result<Caller, Open311Error> {
    let Some(key) = params.text("api_key") else {
        return Err(Open311Error::forbidden(
            format,
            "api_key was not given: this call needs an API key",
        ));
    };
    let check = app
        .authenticate_key(&key, KeyScope::Open311)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    match check {
        KeyCheck::Allowed(caller) => Ok(caller),
        KeyCheck::Unknown => {
            tracing::info!("refused an unknown or revoked Open311 API key");
            Err(Open311Error::forbidden(format, "api_key is not valid"))
        }
        KeyCheck::OutOfScope => Err(Open311Error::forbidden(
            format,
            "api_key is not for Open311: ask for a key with the open311 scope",
        )),
    }
}

fn checked(format: Format, problems: Vec<FieldError>) -> Result<(), Open311Error> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Open311Error::fields(format, problems))
    }
}

fn w3c(at: OffsetDateTime) -> Node {
    Node::Text(
        at.format(&Rfc3339)
            .expect("every stored instant formats as RFC 3339"),
    )
}

fn discovery(format: Format, base: &BaseUrl, changeset: Changeset) -> Document {
    let endpoint = Node::Record(vec![
        ("specification", Node::text(SPECIFICATION)),
        ("url", Node::Text(format!("{}/open311/v2", base.0))),
        ("changeset", w3c(changeset.0)),
        ("type", Node::text("production")),
        (
            "formats",
            Node::List(
                "format",
                vec![Node::text("text/xml"), Node::text("application/json")],
            ),
        ),
    ]);
    Document::ok(
        format,
        "discovery",
        Node::Record(vec![
            ("changeset", w3c(changeset.0)),
            (
                "contact",
                Node::text("Contact the council that runs this service"),
            ),
            (
                "key_service",
                Node::text("Ask the council for an API key with the open311 scope"),
            ),
            ("endpoints", Node::List("endpoint", vec![endpoint])),
        ]),
    )
}

fn services(app: &App, format: Format) -> Document {
    let services = app
        .services()
        .iter()
        .map(|service| {
            Node::Record(vec![
                ("service_code", Node::text(&service.code)),
                ("service_name", Node::text(&service.name)),
                ("description", Node::text(&service.description)),
                (
                    "metadata",
                    Node::Bool(!rules::attributes(service).is_empty()),
                ),
                ("type", Node::text("realtime")),
                ("keywords", Node::Null),
                ("group", Node::text(&service.team)),
            ])
        })
        .collect();
    Document::ok(format, "services", Node::List("service", services))
}

async fn service_definition(State(app): State<App>, Path(file): Path<String>) -> Answer {
    let (code, format) = resource(&file)?;
    let service = app.services().get(code).ok_or_else(|| {
        Open311Error::not_found(format, format!("service_code {code} was not found"))
    })?;
    let attributes = rules::attributes(service)
        .into_iter()
        .map(|attribute| {
            let values = attribute
                .values
                .into_iter()
                .map(|v| {
                    Node::Record(vec![
                        ("key", Node::Text(v.key)),
                        ("name", Node::Text(v.name)),
                    ])
                })
                .collect();
            Node::Record(vec![
                ("variable", Node::Bool(true)),
                ("code", Node::Text(attribute.code)),
                ("datatype", Node::text(attribute.datatype.as_str())),
                ("required", Node::Bool(attribute.required)),
                (
                    "datatype_description",
                    Node::optional(attribute.datatype_description),
                ),
                ("order", Node::number(attribute.order)),
                ("description", Node::Text(attribute.description)),
                ("values", Node::List("value", values)),
            ])
        })
        .collect();
    Ok(Document::ok(
        format,
        "service_definition",
        Node::Record(vec![
            ("service_code", Node::text(&service.code)),
            ("attributes", Node::List("attribute", attributes)),
        ]),
    ))
}

fn request_node(app: &App, request: &Open311Request) -> Node {
    let case = &request.case;
    let service = app.services().get(&case.service);
    let status = match service {
        Some(service) => rules::status(service, &case.state),
        None if case.is_open() => "open",
        None => "closed",
    };
    let state = service.and_then(|s| s.workflow.state(&case.state));
    let location = case.location.as_ref();
    let coordinate = |value: Option<f64>| value.map_or(Node::Null, Node::number);
    Node::Record(vec![
        ("service_request_id", Node::Text(case.reference.to_string())),
        ("status", Node::text(status)),
        (
            "status_notes",
            Node::optional(state.map(|s| s.label.clone())),
        ),
        (
            "service_name",
            Node::text(service.map_or(&case.service, |s| &s.name)),
        ),
        ("service_code", Node::text(&case.service)),
        ("description", Node::optional(case.description.clone())),
        ("agency_responsible", Node::text(&case.team)),
        ("service_notice", Node::Null),
        ("requested_datetime", w3c(case.created_at)),
        ("updated_datetime", w3c(case.updated_at)),
        ("expected_datetime", w3c(case.sla_due_at)),
        (
            "address",
            Node::optional(location.and_then(|l| l.address.clone())),
        ),
        ("address_id", Node::optional(request.address_id.clone())),
        ("zipcode", Node::Null),
        ("lat", coordinate(location.and_then(|l| l.lat))),
        ("long", coordinate(location.and_then(|l| l.long))),
        (
            "media_url",
            Node::optional(request.media_urls.first().cloned()),
        ),
    ])
}

async fn list_requests(app: &App, format: Format, params: &Params) -> Answer {
    let caller = caller(app, format, params).await?;
    let mut problems = Vec::new();
    let mut references = Vec::new();
    for id in params
        .all("service_request_id")
        .iter()
        .flat_map(|ids| ids.split(','))
    {
        match id.trim().parse::<Reference>() {
            Ok(reference) => references.push(reference),
            Err(_) if id.trim().is_empty() => {}
            Err(_) => problems.push(FieldError::new(
                "service_request_id",
                format!(
                    "{} is not a request id: they look like CW-000123",
                    id.trim()
                ),
            )),
        }
    }
    let mut open = None;
    let statuses: Vec<String> = params
        .all("status")
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if statuses.iter().any(|s| s != "open" && s != "closed") {
        problems.push(FieldError::new("status", "Status must be open or closed"));
    } else if !(statuses.iter().any(|s| s == "open") && statuses.iter().any(|s| s == "closed")) {
        open = statuses.first().map(|s| s == "open");
    }
    let query = Open311Query {
        references,
        service_code: params.text("service_code"),
        open,
        start: params.datetime("start_date", &mut problems),
        end: params.datetime("end_date", &mut problems),
    };
    checked(format, problems)?;
    let requests = app
        .open311_requests(&caller, &query)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    Ok(Document::ok(
        format,
        "service_requests",
        Node::List(
            "request",
            requests.iter().map(|r| request_node(app, r)).collect(),
        ),
    ))
}

async fn one_request(
    State(app): State<App>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let (id, format) = resource(&file)?;
    let params = Params::parse(query.as_deref().unwrap_or_default().as_bytes());
    let caller = caller(&app, format, &params).await?;
    let reference: Reference = id.parse().map_err(|_| {
        Open311Error::not_found(format, format!("service_request_id {id} was not found"))
    })?;
    let request = app
        .open311_request(&caller, reference)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    Ok(Document::ok(
        format,
        "service_requests",
        Node::List("request", vec![request_node(&app, &request)]),
    ))
}

async fn token(
    State(app): State<App>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let (token, format) = resource(&file)?;
    let params = Params::parse(query.as_deref().unwrap_or_default().as_bytes());
    let caller = caller(&app, format, &params).await?;
    let reference = app
        .open311_token(&caller, token)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?
        .ok_or_else(|| Open311Error::not_found(format, "token was not found"))?;
    Ok(Document::ok(
        format,
        "service_requests",
        Node::List(
            "request",
            vec![Node::Record(vec![
                ("service_request_id", Node::Text(reference.to_string())),
                ("token", Node::text(token)),
            ])],
        ),
    ))
}

async fn create_request(app: &App, format: Format, params: &Params) -> Answer {
    let caller = caller(app, format, params).await?;
    let mut problems = Vec::new();
    let service_code = params.text("service_code");
    if service_code.is_none() {
        problems.push(FieldError::new(
            "service_code",
            "Give the service_code of the service the request is for",
        ));
    }
    let report = Open311Report {
        service_code: service_code.unwrap_or_default(),
        lat: params.number("lat", &mut problems),
        long: params.number("long", &mut problems),
        address_string: params.text("address_string"),
        address_id: params.text("address_id"),
        reporter: params.reporter(),
        device_id: params.text("device_id"),
        account_id: params.text("account_id"),
        description: params.text("description"),
        media_urls: params.media_urls(&mut problems),
        attributes: params.attributes(),
    };
    checked(format, problems)?;
    if app.services().get(&report.service_code).is_none() {
        return Err(Open311Error::bad_request(
            format,
            format!(
                "service_code: {} is not a service here",
                report.service_code
            ),
        ));
    }
    let receipt = app
        .open311_report(&caller, report)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    let case = &receipt.request.case;
    let notice = format!(
        "Your reference is {}. We aim to deal with it by {}.",
        case.reference,
        case.sla_due_at
            .date()
            .format(time::macros::format_description!(
                "[day padding:none] [month repr:long] [year]"
            ))
            .expect("a date formats")
    );
    Ok(Document::ok(
        format,
        "service_requests",
        Node::List(
            "request",
            vec![Node::Record(vec![
                ("service_request_id", Node::Text(case.reference.to_string())),
                ("token", Node::Text(receipt.token)),
                ("service_notice", Node::Text(notice)),
                ("account_id", Node::optional(receipt.request.account_id)),
            ])],
        ),
    ))
}

async fn list_updates(app: &App, format: Format, params: &Params) -> Answer {
    let caller = caller(app, format, params).await?;
    let mut problems = Vec::new();
    let start = params.datetime("start_date", &mut problems);
    let end = params.datetime("end_date", &mut problems);
    checked(format, problems)?;
    let updates = app
        .open311_updates(&caller, start, end)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    let updates = updates
        .into_iter()
        .map(|update| {
            Node::Record(vec![
                ("update_id", Node::Text(update.id.to_string())),
                ("service_request_id", Node::Text(update.case.to_string())),
                ("status", Node::text(update.status)),
                ("updated_datetime", w3c(update.at)),
                ("description", Node::Text(update.description)),
                ("media_url", Node::Null),
            ])
        })
        .collect();
    Ok(Document::ok(
        format,
        "service_request_updates",
        Node::List("request_update", updates),
    ))
}

async fn post_update(app: &App, format: Format, params: &Params) -> Answer {
    let caller = caller(app, format, params).await?;
    let mut problems = Vec::new();
    let id = params.text("service_request_id");
    if id.is_none() {
        problems.push(FieldError::new(
            "service_request_id",
            "Give the service_request_id of the request the update is for",
        ));
    }
    let status = params.text("status");
    if status.is_none() {
        problems.push(FieldError::new("status", "Give the status of the request"));
    }
    params.datetime("updated_datetime", &mut problems);
    let media_urls = params.media_urls(&mut problems);
    checked(format, problems)?;
    let id = id.unwrap_or_default();
    let reference: Reference = id.parse().map_err(|_| {
        Open311Error::not_found(format, format!("service_request_id {id} was not found"))
    })?;
    let reporter = params.reporter();
    let author = [reporter.first_name, reporter.last_name]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let request = Open311UpdateRequest {
        reference,
        client_update_id: params
            .text("update_id")
            .or_else(|| params.text("update_id_ext")),
        status: status.unwrap_or_default(),
        description: params.text("description").unwrap_or_default(),
        author: (!author.is_empty()).then_some(author),
        media_urls,
    };
    let update_id = app
        .open311_post_update(&caller, request)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    Ok(Document::ok(
        format,
        "service_request_updates",
        Node::List(
            "request_update",
            vec![Node::Record(vec![(
                "update_id",
                Node::Text(update_id.to_string()),
            )])],
        ),
    ))
}
