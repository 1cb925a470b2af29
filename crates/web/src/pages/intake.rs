//! The resident request form, made from each service's definition: `/` lists the services
//! (the GOV.UK start page pattern), and `/requests/new/{service}` asks one thing a page (the
//! GOV.UK question pages pattern) for each field residents answer, then the resident's contact
//! details, then "Check your answers", then sends the request and shows its reference. Nothing
//! needs JavaScript.
//!
//! The answers so far are kept in a session of the form's own: a cookie sent only to the form's
//! pages, the answers in our database, gone once the request is sent or after
//! [`WebConfig::request_idle`] without an answer. A resident who comes back after that starts
//! again.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_login::tower_sessions::cookie::SameSite;
use axum_login::tower_sessions::{Expiry, Session, SessionManagerLayer};
use casework_app::domain::calendar::uk_date;
use casework_app::domain::case::{CaseError, Channel, Contact};
use casework_app::domain::message::MessageChannel;
use casework_app::domain::service::answers::{
    FieldError, MAX_LONG_TEXT, MAX_TEXT, answers_too_large,
};
use casework_app::domain::service::{Answers, Choice, Field, FieldKind, Service};
use casework_app::{App, AppError, RequestOutcome, ResidentRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_http::limit::RequestBodyLimitLayer;

use super::resident::{ResidentChrome, ResidentLang};
use super::{ErrorItem, format};
use crate::WebConfig;
use crate::auth::ClientIp;
use crate::i18n::Lang;
use crate::sessions::DbSessions;

/// Where every page of the form is, under its service's code.
const BASE: &str = "/requests/new";
/// The form's session cookie, sent only to the form's pages.
const COOKIE_NAME: &str = "casework_request";
/// Where the session keeps the request being made, and the one just sent.
const DRAFT_KEY: &str = "casework.request";
const SENT_KEY: &str = "casework.request_sent";
/// The largest form accepted: a long answer at its limit in any script, percent-encoded, with
/// room to spare. More than that is no resident's answer.
const BODY_LIMIT: usize = 256 * 1024;

/// The request form's pages.
pub(crate) fn router(app: &App, config: &WebConfig) -> Router<App> {
    let sessions = SessionManagerLayer::new(DbSessions::new(app.clone()))
        .with_name(COOKIE_NAME)
        .with_path(BASE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(config.request_idle));
    let form = Router::new()
        .route("/requests/new/{service}", get(begin))
        .route(
            "/requests/new/{service}/questions/{field}",
            get(question).post(answer),
        )
        .route(
            "/requests/new/{service}/contact",
            get(contact).post(save_contact),
        )
        .route("/requests/new/{service}/check", get(check).post(send))
        .route(
            "/requests/new/{service}/duplicate",
            get(duplicate).post(decide_duplicate),
        )
        .route("/requests/new/{service}/sent", get(sent))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    Router::new().route("/", get(services)).merge(form)
}

/// The form's session, which the session layer puts on each request.
struct FormSession(Session);

impl<S: Send + Sync> FromRequestParts<S> for FormSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match parts.extensions.get::<Session>() {
            Some(session) => Ok(Self(session.clone())),
            None => {
                tracing::error!(
                    path = parts.uri.path(),
                    "a page of the request form is outside its session layer"
                );
                Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
            }
        }
    }
}

/// A request being made, as the session keeps it between pages.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Draft {
    service: String,
    /// The answers so far, checked and normalised by the service's rules.
    answers: Answers,
    /// The boxes of each address question as typed, to show them again.
    addresses: BTreeMap<String, [String; 4]>,
    /// Places given for location questions, as addresses: the case's location.
    places: BTreeMap<String, String>,
    contact: Option<ContactDraft>,
    /// The recent request from the same person the resident is being asked about.
    duplicate_of: Option<String>,
}

/// The contact details as typed.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct ContactDraft {
    name: String,
    email: String,
    phone: String,
    /// `email` or `sms`, or empty if none was chosen.
    channel: String,
}

/// The request just sent (or found to be sent already), for the last page.
#[derive(Debug, Serialize, Deserialize)]
struct Sent {
    service: String,
    reference: String,
    /// The SLA due date, `YYYY-MM-DD`; `None` for a request that was sent before.
    due: Option<String>,
    confirmation: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    /// `?change=yes`: the resident came from "Check your answers" and goes back there.
    #[serde(default)]
    change: Option<String>,
}

impl PageQuery {
    fn changing(&self) -> bool {
        self.change.is_some()
    }
}

type Fields = Vec<(String, String)>;

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

fn values(fields: &Fields, name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(n, v)| n == name && !v.trim().is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Words from the definition, in the resident's language where the definition has it.

fn in_lang<'a>(lang: Lang, english: &'a str, welsh: Option<&'a str>) -> &'a str {
    match (lang, welsh) {
        (Lang::Cy, Some(welsh)) => welsh,
        _ => english,
    }
}

fn service_name(service: &Service, lang: Lang) -> String {
    in_lang(lang, &service.name, service.name_cy.as_deref()).to_owned()
}

fn label(field: &Field, lang: Lang) -> String {
    in_lang(lang, &field.label, field.label_cy.as_deref()).to_owned()
}

fn hint(field: &Field, lang: Lang) -> Option<String> {
    match (lang, &field.hint_cy) {
        (Lang::Cy, Some(welsh)) => Some(welsh.clone()),
        _ => field.hint.clone(),
    }
}

fn choice_label(choice: &Choice, lang: Lang) -> String {
    in_lang(lang, &choice.label, choice.label_cy.as_deref()).to_owned()
}

/// The questions residents answer, in the definition's order.
fn questions(service: &Service) -> Vec<&Field> {
    service.fields.iter().filter(|f| !f.staff_only).collect()
}

fn href(service: &Service, page: &str) -> String {
    format!("{BASE}/{}/{page}", service.code)
}

fn question_href(service: &Service, field: &Field) -> String {
    href(service, &format!("questions/{}", field.code))
}

/// The page after `field`: the next question, or the contact details after the last.
fn after(service: &Service, field: Option<&Field>) -> String {
    let questions = questions(service);
    let next = match field {
        Some(field) => questions
            .iter()
            .position(|f| f.code == field.code)
            .and_then(|i| questions.get(i + 1)),
        None => questions.first(),
    };
    match next {
        Some(next) => question_href(service, next),
        None => href(service, "contact"),
    }
}

/// The page before `field` (the contact details when `None`): the question before, or the
/// list of services before the first.
fn before(service: &Service, field: Option<&Field>) -> String {
    let questions = questions(service);
    let previous = match field {
        Some(field) => questions
            .iter()
            .position(|f| f.code == field.code)
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| questions.get(i)),
        None => questions.last(),
    };
    previous.map_or_else(|| "/".to_owned(), |f| question_href(service, f))
}

// ---------------------------------------------------------------------------------------------
// Pages that are not questions.

#[derive(Template, WebTemplate)]
#[template(path = "intake_services.html")]
struct ServicesPage {
    page: ResidentChrome,
    services: Vec<ServiceLink>,
}

struct ServiceLink {
    href: String,
    name: String,
    description: String,
}

/// `/`: every service, as a link to its form.
async fn services(State(app): State<App>, lang: ResidentLang) -> ServicesPage {
    ServicesPage {
        page: lang.chrome(lang.lang.t("services-title")),
        services: app
            .services()
            .iter()
            .map(|s| ServiceLink {
                href: format!("{BASE}/{}", s.code),
                name: service_name(s, lang.lang),
                description: in_lang(lang.lang, &s.description, s.description_cy.as_deref())
                    .to_owned(),
            })
            .collect(),
    }
}

/// A page with a heading, some text and perhaps a button: the form's dead ends.
#[derive(Template, WebTemplate)]
#[template(path = "intake_message.html")]
struct MessagePage {
    page: ResidentChrome,
    paragraphs: Vec<String>,
    /// A button: its text and where it goes.
    button: Option<(String, String)>,
}

fn message_page(
    lang: &ResidentLang,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    button: Option<(&str, String)>,
) -> Response {
    let page = MessagePage {
        page: lang.chrome(lang.lang.t(title)),
        paragraphs: paragraphs.iter().map(|key| lang.lang.t(key)).collect(),
        button: button.map(|(key, href)| (lang.lang.t(key), href)),
    };
    (status, page).into_response()
}

fn not_found(lang: &ResidentLang) -> Response {
    message_page(
        lang,
        StatusCode::NOT_FOUND,
        "not-found-title",
        &["not-found-text"],
        Some(("start-again", "/".to_owned())),
    )
}

/// The answers are gone (the session timed out) or were never given.
fn expired(lang: &ResidentLang, service: &Service) -> Response {
    message_page(
        lang,
        StatusCode::OK,
        "expired-title",
        &["expired-text"],
        Some(("start-again", format!("{BASE}/{}", service.code))),
    )
}

fn too_many(lang: &ResidentLang) -> Response {
    message_page(
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-requests-title",
        &["too-many-requests"],
        None,
    )
}

/// A failure on our side: logged, with nothing of the cause or the resident's answers.
fn unavailable(lang: &ResidentLang, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "a page of the request form failed");
    message_page(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable-title",
        &["unavailable-text"],
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// The session.

/// The request being made for `service`, if there is one.
async fn load(
    session: &Session,
    lang: &ResidentLang,
    service: &Service,
) -> Result<Option<Draft>, Response> {
    match session.get::<Draft>(DRAFT_KEY).await {
        Ok(draft) => Ok(draft.filter(|d| d.service == service.code)),
        Err(error) => Err(unavailable(lang, &error)),
    }
}

async fn store(session: &Session, lang: &ResidentLang, draft: &Draft) -> Result<(), Response> {
    session
        .insert(DRAFT_KEY, draft)
        .await
        .map_err(|error| unavailable(lang, &error))
}

/// The request being made, or the page saying the answers are gone.
async fn draft_in_progress(
    session: &Session,
    lang: &ResidentLang,
    service: &Service,
) -> Result<Draft, Response> {
    load_or_begin(session, lang, service, false).await
}

/// The request being made, a new one if this is the form's first page, or the page saying the
/// answers are gone.
async fn load_or_begin(
    session: &Session,
    lang: &ResidentLang,
    service: &Service,
    first: bool,
) -> Result<Draft, Response> {
    match load(session, lang, service).await? {
        Some(draft) => Ok(draft),
        None if first => Ok(Draft {
            service: service.code.clone(),
            ..Draft::default()
        }),
        None => Err(expired(lang, service)),
    }
}

/// `/requests/new/{service}`: the first question.
async fn begin(State(app): State<App>, lang: ResidentLang, Path(code): Path<String>) -> Response {
    match app.services().get(&code) {
        Some(service) => Redirect::to(&after(service, None)).into_response(),
        None => not_found(&lang),
    }
}

// ---------------------------------------------------------------------------------------------
// Questions.

/// How a question is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Widget {
    Input,
    Textarea,
    Date,
    Radios,
    Checkboxes,
    Address,
}

struct OptionView {
    id: String,
    value: String,
    text: String,
    checked: bool,
}

/// One question as its page shows it.
struct QuestionView {
    widget: Widget,
    /// The `type`, `inputmode` and `autocomplete` of a one-line input.
    input_type: &'static str,
    input_mode: &'static str,
    autocomplete: &'static str,
    label: String,
    hint: Option<String>,
    error: Option<String>,
    optional: bool,
    /// The ids of the hint and error, for `aria-describedby`.
    described_by: String,
    value: String,
    /// A date's day, month and year, or an address's four lines.
    parts: Vec<String>,
    options: Vec<OptionView>,
    /// A textarea's limit, such as "10,000".
    max_chars: String,
    max_length: usize,
    /// Yes and no side by side, as GOV.UK shows two short choices.
    inline: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "intake_question.html")]
struct QuestionPage {
    page: ResidentChrome,
    back: String,
    action: String,
    caption: String,
    question: QuestionView,
    errors: Vec<ErrorItem>,
}

/// What a question's inputs hold: as typed, or from the answer kept.
enum Typed {
    One(String),
    Many(Vec<String>),
    Parts(Vec<String>),
}

impl Typed {
    fn kept(field: &Field, draft: &Draft) -> Self {
        let answer = draft.answers.get(&field.code);
        match field.kind {
            FieldKind::Address | FieldKind::Location => Self::Parts(
                draft
                    .addresses
                    .get(&field.code)
                    .map_or_else(|| vec![String::new(); 4], |parts| parts.to_vec()),
            ),
            FieldKind::Date => Self::Parts(
                answer
                    .and_then(Value::as_str)
                    .and_then(format::iso_date)
                    .map_or_else(
                        || vec![String::new(); 3],
                        |d| {
                            vec![
                                d.day().to_string(),
                                u8::from(d.month()).to_string(),
                                d.year().to_string(),
                            ]
                        },
                    ),
            ),
            FieldKind::MultipleChoice => Self::Many(
                answer
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            FieldKind::YesNo => Self::One(match answer {
                Some(Value::Bool(true)) => "yes".to_owned(),
                Some(Value::Bool(false)) => "no".to_owned(),
                _ => String::new(),
            }),
            _ => Self::One(match answer {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }),
        }
    }

    fn posted(field: &Field, fields: &Fields) -> Self {
        match field.kind {
            FieldKind::Address | FieldKind::Location => Self::Parts(
                ["line-1", "line-2", "town", "postcode"]
                    .iter()
                    .map(|part| value(fields, &format!("answer-{part}")).to_owned())
                    .collect(),
            ),
            FieldKind::Date => Self::Parts(
                ["day", "month", "year"]
                    .iter()
                    .map(|part| value(fields, &format!("answer-{part}")).to_owned())
                    .collect(),
            ),
            FieldKind::MultipleChoice => Self::Many(values(fields, "answer")),
            _ => Self::One(value(fields, "answer").to_owned()),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Self::One(v) => v.trim().is_empty(),
            Self::Many(v) => v.is_empty(),
            Self::Parts(v) => v.iter().all(|p| p.trim().is_empty()),
        }
    }

    /// The answer for the service's rules to check.
    fn answer(&self, field: &Field) -> Value {
        match self {
            Self::One(v) => Value::String(v.clone()),
            Self::Many(v) => Value::Array(v.iter().cloned().map(Value::String).collect()),
            Self::Parts(parts) if field.kind == FieldKind::Date => {
                Value::String(format::date_input(&parts[0], &parts[1], &parts[2]))
            }
            Self::Parts(parts) => Value::String(address_text(parts)),
        }
    }
}

/// An address's boxes as one answer, a line each.
fn address_text(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn count(n: usize) -> String {
    format::count(i64::try_from(n).unwrap_or(i64::MAX))
}

impl QuestionView {
    fn new(field: &Field, lang: Lang, typed: Typed, error: Option<String>) -> Self {
        let hint = hint(field, lang);
        let widget = match field.kind {
            FieldKind::LongText => Widget::Textarea,
            FieldKind::Date => Widget::Date,
            FieldKind::YesNo | FieldKind::SingleChoice => Widget::Radios,
            FieldKind::MultipleChoice => Widget::Checkboxes,
            FieldKind::Address | FieldKind::Location => Widget::Address,
            FieldKind::Text | FieldKind::Number | FieldKind::Email | FieldKind::Phone => {
                Widget::Input
            }
        };
        let (input_type, input_mode, autocomplete) = match field.kind {
            FieldKind::Email => ("email", "", "email"),
            FieldKind::Phone => ("tel", "", "tel"),
            FieldKind::Number => ("text", "decimal", ""),
            _ => ("text", "", ""),
        };
        // A date's hint is always there: it shows the order of the boxes.
        let hint_shown = hint.is_some() || widget == Widget::Date;
        let described_by = [
            hint_shown.then_some("answer-hint"),
            error.as_ref().map(|_| "answer-error"),
            (widget == Widget::Textarea).then_some("answer-info"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let choices: Vec<(String, String)> = match field.kind {
            FieldKind::YesNo => vec![
                ("yes".to_owned(), lang.t("yes")),
                ("no".to_owned(), lang.t("no")),
            ],
            _ => field
                .choices
                .iter()
                .map(|c| (c.code.clone(), choice_label(c, lang)))
                .collect(),
        };
        let (value, ticked, parts) = match typed {
            Typed::One(v) => (v, Vec::new(), Vec::new()),
            Typed::Many(v) => (String::new(), v, Vec::new()),
            Typed::Parts(p) => (String::new(), Vec::new(), p),
        };
        let options = choices
            .into_iter()
            .enumerate()
            .map(|(i, (code, text))| OptionView {
                // The first option has the question's id, where the error summary links.
                id: if i == 0 {
                    "answer".to_owned()
                } else {
                    format!("answer-{}", i + 1)
                },
                checked: code == value || ticked.contains(&code),
                value: code,
                text,
            })
            .collect();
        let max_length = match field.kind {
            FieldKind::LongText => MAX_LONG_TEXT,
            _ => MAX_TEXT,
        };
        Self {
            widget,
            input_type,
            input_mode,
            autocomplete,
            label: label(field, lang),
            hint,
            error,
            optional: !field.required,
            described_by,
            value,
            parts,
            options,
            max_chars: count(max_length),
            max_length,
            inline: field.kind == FieldKind::YesNo,
        }
    }
}

/// The question `code` of `service`, if residents are asked it.
fn find_question<'a>(service: &'a Service, code: &str) -> Option<&'a Field> {
    service.field(code).filter(|f| !f.staff_only)
}

fn is_first(service: &Service, field: &Field) -> bool {
    questions(service)
        .first()
        .is_some_and(|f| f.code == field.code)
}

fn question_page(
    lang: &ResidentLang,
    service: &Service,
    field: &Field,
    query: &PageQuery,
    typed: Typed,
    error: Option<String>,
) -> QuestionPage {
    let back = if query.changing() {
        href(service, "check")
    } else {
        before(service, Some(field))
    };
    let mut action = question_href(service, field);
    if query.changing() {
        action.push_str("?change=yes");
    }
    let question = QuestionView::new(field, lang.lang, typed, error);
    let mut page = lang.chrome(question.label.clone());
    page.has_errors = question.error.is_some();
    let target = match question.widget {
        Widget::Date => "#answer-day",
        Widget::Address => "#answer-line-1",
        _ => "#answer",
    };
    let errors = question
        .error
        .iter()
        .map(|text| ErrorItem {
            text: text.clone(),
            href: Some(target.to_owned()),
        })
        .collect();
    QuestionPage {
        page,
        back,
        action,
        caption: service_name(service, lang.lang),
        question,
        errors,
    }
}

/// A question page, with the answer kept if there is one.
async fn question(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path((code, field)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let Some(field) = find_question(service, &field) else {
        return not_found(&lang);
    };
    let draft = match load_or_begin(&session, &lang, service, is_first(service, field)).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    question_page(
        &lang,
        service,
        field,
        &query,
        Typed::kept(field, &draft),
        None,
    )
    .into_response()
}

/// Keeps the answer to one question if the service's rules take it, and goes on; otherwise
/// asks again, with what was typed and what is wrong.
async fn answer(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path((code, field)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let Some(field) = find_question(service, &field) else {
        return not_found(&lang);
    };
    let mut draft = match load_or_begin(&session, &lang, service, is_first(service, field)).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    let typed = Typed::posted(field, &fields);
    if let Err(message) = keep_answer(service, field, &typed, lang.lang, &mut draft) {
        let page = question_page(&lang, service, field, &query, typed, Some(message));
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    if let Err(response) = store(&session, &lang, &draft).await {
        return response;
    }
    let next = if query.changing() {
        href(service, "check")
    } else {
        after(service, Some(field))
    };
    Redirect::to(&next).into_response()
}

/// Checks `typed` by the service's rules and keeps it in `draft`, or says what is wrong.
fn keep_answer(
    service: &Service,
    field: &Field,
    typed: &Typed,
    lang: Lang,
    draft: &mut Draft,
) -> Result<(), String> {
    if let Typed::Parts(parts) = typed
        && matches!(field.kind, FieldKind::Address | FieldKind::Location)
    {
        let parts: [String; 4] = std::array::from_fn(|i| parts[i].trim().to_owned());
        draft.addresses.insert(field.code.clone(), parts);
    }
    if field.kind == FieldKind::Location {
        // A point needs a map; without JavaScript the place is given as an address, which
        // becomes the case's location.
        let place = typed.answer(field);
        let place = place.as_str().unwrap_or_default();
        if place.is_empty() {
            if field.required {
                // The service's own words for a missing answer to this question.
                let mut given = Answers::new();
                given.insert(field.code.clone(), Value::Null);
                let errors = service.check_answer_changes(&given).err();
                return Err(error_message(
                    lang,
                    field,
                    true,
                    &errors.unwrap_or_default(),
                ));
            }
            draft.places.remove(&field.code);
        } else if place.chars().count() > MAX_TEXT {
            return Err(lang.t_args("answer-too-long", &[("label", label(field, lang))]));
        } else {
            draft.places.insert(field.code.clone(), place.to_owned());
        }
        return Ok(());
    }
    let mut given = Answers::new();
    given.insert(field.code.clone(), typed.answer(field));
    let checked = service
        .check_answer_changes(&given)
        .map_err(|errors| error_message(lang, field, typed.is_blank(), &errors))?;
    let mut answers = draft.answers.clone();
    match checked.get(&field.code) {
        Some(Value::Null) | None => {
            answers.remove(&field.code);
        }
        Some(value) => {
            answers.insert(field.code.clone(), value.clone());
        }
    }
    if answers_too_large(&answers) {
        return Err(lang.t("answers-too-long"));
    }
    draft.answers = answers;
    Ok(())
}

fn error_message(lang: Lang, field: &Field, blank: bool, errors: &[FieldError]) -> String {
    let english = errors
        .iter()
        .find(|e| e.field == field.code)
        .or(errors.first())
        .map(|e| e.message.clone())
        .unwrap_or_default();
    error_in(lang, field, blank, english)
}

/// The service's own message in English, which names the question; in another language, the
/// same kind of message from the messages file, naming the question in that language.
fn error_in(lang: Lang, field: &Field, blank: bool, english: String) -> String {
    if lang == Lang::En {
        return english;
    }
    let key = match (blank, field.kind) {
        (
            true,
            FieldKind::YesNo
            | FieldKind::SingleChoice
            | FieldKind::MultipleChoice
            | FieldKind::Location,
        ) => "answer-select",
        (true, _) => "answer-missing",
        (false, FieldKind::Number) => "answer-number",
        (false, FieldKind::Date) => "answer-date",
        (false, FieldKind::Email) => "contact-email-invalid",
        (false, FieldKind::Phone) => "contact-phone-invalid",
        (false, FieldKind::YesNo | FieldKind::SingleChoice | FieldKind::MultipleChoice) => {
            "answer-select"
        }
        (false, _) => "answer-too-long",
    };
    lang.t_args(key, &[("label", label(field, lang))])
}

// ---------------------------------------------------------------------------------------------
// Contact details.

#[derive(Template, WebTemplate)]
#[template(path = "intake_contact.html")]
struct ContactPage {
    page: ResidentChrome,
    back: String,
    action: String,
    caption: String,
    contact: ContactDraft,
    errors: Vec<ErrorItem>,
    name_error: Option<String>,
    email_error: Option<String>,
    phone_error: Option<String>,
    channel_error: Option<String>,
}

impl ContactPage {
    fn new(
        lang: &ResidentLang,
        service: &Service,
        query: &PageQuery,
        contact: ContactDraft,
        errors: Vec<(&'static str, String)>,
    ) -> Self {
        let mut page = lang.chrome(lang.lang.t("contact-title"));
        page.has_errors = !errors.is_empty();
        let error = |id: &str| {
            errors
                .iter()
                .find(|(field, _)| *field == id)
                .map(|(_, message)| message.clone())
        };
        let mut action = href(service, "contact");
        if query.changing() {
            action.push_str("?change=yes");
        }
        Self {
            back: if query.changing() {
                href(service, "check")
            } else {
                before(service, None)
            },
            action,
            caption: service_name(service, lang.lang),
            name_error: error("name"),
            email_error: error("email"),
            phone_error: error("phone"),
            channel_error: error("channel"),
            errors: errors
                .iter()
                .map(|(id, message)| ErrorItem {
                    text: message.clone(),
                    href: Some(format!("#{id}")),
                })
                .collect(),
            contact,
            page,
        }
    }
}

async fn contact(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path(code): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let first = questions(service).is_empty();
    let draft = match load_or_begin(&session, &lang, service, first).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    let typed = draft.contact.unwrap_or_default();
    ContactPage::new(&lang, service, &query, typed, Vec::new()).into_response()
}

async fn save_contact(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path(code): Path<String>,
    Query(query): Query<PageQuery>,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let first = questions(service).is_empty();
    let mut draft = match load_or_begin(&session, &lang, service, first).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    let typed = ContactDraft {
        name: value(&fields, "name").to_owned(),
        email: value(&fields, "email").to_owned(),
        phone: value(&fields, "phone").to_owned(),
        channel: value(&fields, "channel").to_owned(),
    };
    let errors = contact_errors(&typed, lang.lang);
    if !errors.is_empty() {
        let page = ContactPage::new(&lang, service, &query, typed, errors);
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    draft.contact = Some(typed);
    if let Err(response) = store(&session, &lang, &draft).await {
        return response;
    }
    Redirect::to(&href(service, "check")).into_response()
}

/// The contact as the app takes it, if a channel was chosen.
fn to_contact(typed: &ContactDraft, lang: Lang) -> Option<Contact> {
    let preferred_channel = match typed.channel.as_str() {
        "email" => Channel::Email,
        "sms" => Channel::Sms,
        _ => return None,
    };
    Some(contact_by(typed, lang, preferred_channel))
}

fn contact_by(typed: &ContactDraft, lang: Lang, preferred_channel: Channel) -> Contact {
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    Contact {
        name: typed.name.clone(),
        email: given(&typed.email),
        phone: given(&typed.phone),
        preferred_channel,
        language: lang.into(),
    }
}

/// What is wrong with the contact details by the domain's rules, worded for the resident, in
/// the order of the page: (the input's id, the message).
fn contact_errors(typed: &ContactDraft, lang: Lang) -> Vec<(&'static str, String)> {
    let channel = to_contact(typed, lang);
    // Without a channel, the rest is checked as for post, which needs neither an email address
    // nor a phone number, so that every other problem is found at the same time.
    let checked = channel
        .clone()
        .unwrap_or_else(|| contact_by(typed, lang, Channel::Post))
        .checked();
    let problems = checked.err().unwrap_or_default();
    let mut errors = Vec::new();
    for (id, field) in [
        ("name", "contact.name"),
        ("email", "contact.email"),
        ("phone", "contact.phone"),
    ] {
        if problems.iter().any(|p| p.field == field) {
            let blank = match id {
                "name" => typed.name.trim().is_empty(),
                "email" => typed.email.trim().is_empty(),
                _ => typed.phone.trim().is_empty(),
            };
            let key = match (id, blank) {
                ("name", true) => "contact-name-missing",
                ("name", false) => "contact-name-long",
                ("email", true) => "contact-email-missing",
                ("email", false) => "contact-email-invalid",
                ("phone", true) => "contact-phone-missing",
                _ => "contact-phone-invalid",
            };
            errors.push((id, lang.t(key)));
        }
    }
    if channel.is_none() {
        errors.push(("channel", lang.t("contact-channel-missing")));
    }
    errors
}

// ---------------------------------------------------------------------------------------------
// Check your answers, and sending.

struct SummaryRow {
    key: String,
    lines: Vec<String>,
    change: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "intake_check.html")]
struct CheckPage {
    page: ResidentChrome,
    back: String,
    action: String,
    caption: String,
    answers: Vec<SummaryRow>,
    contact: Vec<SummaryRow>,
    errors: Vec<ErrorItem>,
}

impl CheckPage {
    fn new(lang: &ResidentLang, service: &Service, draft: &Draft) -> Self {
        let words = lang.lang;
        let change = |page: &str| format!("{}?change=yes", href(service, page));
        let answers = questions(service)
            .into_iter()
            .map(|field| {
                let lines = if field.kind == FieldKind::Location {
                    draft
                        .places
                        .get(&field.code)
                        .map(|p| p.lines().map(str::to_owned).collect())
                        .unwrap_or_default()
                } else {
                    draft
                        .answers
                        .get(&field.code)
                        .map(|v| answer_lines(field, v, words))
                        .unwrap_or_default()
                };
                SummaryRow {
                    key: label(field, words),
                    lines: if lines.is_empty() {
                        vec![words.t("not-answered")]
                    } else {
                        lines
                    },
                    change: change(&format!("questions/{}", field.code)),
                }
            })
            .collect();
        let typed = draft.contact.clone().unwrap_or_default();
        let channel = match typed.channel.as_str() {
            "email" => words.t("channel-email"),
            "sms" => words.t("channel-sms"),
            _ => String::new(),
        };
        let contact = [
            ("contact-name", typed.name),
            ("contact-email", typed.email),
            ("contact-phone", typed.phone),
            ("contact-channel", channel),
        ]
        .into_iter()
        .map(|(key, value)| SummaryRow {
            key: words.t(key),
            lines: match value.trim() {
                "" => vec![words.t("not-answered")],
                given => vec![given.to_owned()],
            },
            change: change("contact"),
        })
        .collect();
        Self {
            page: lang.chrome(words.t("check-title")),
            back: href(service, "contact"),
            action: href(service, "check"),
            caption: service_name(service, words),
            answers,
            contact,
            errors: Vec::new(),
        }
    }
}

/// An answer as the resident reads it, a line at a time.
fn answer_lines(field: &Field, value: &Value, lang: Lang) -> Vec<String> {
    let choice = |code: &str| {
        field
            .choices
            .iter()
            .find(|c| c.code == code)
            .map_or_else(|| code.to_owned(), |c| choice_label(c, lang))
    };
    match (field.kind, value) {
        (FieldKind::YesNo, Value::Bool(yes)) => vec![lang.t(if *yes { "yes" } else { "no" })],
        (FieldKind::Date, Value::String(text)) => {
            vec![format::iso_date(text).map_or_else(|| text.clone(), |d| format::date_in(lang, d))]
        }
        (FieldKind::SingleChoice, Value::String(code)) => vec![choice(code)],
        (FieldKind::MultipleChoice, Value::Array(codes)) => {
            codes.iter().filter_map(Value::as_str).map(choice).collect()
        }
        (_, Value::String(text)) => text.lines().map(str::to_owned).collect(),
        (_, other) => vec![other.to_string()],
    }
}

async fn check(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path(code): Path<String>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    match draft_in_progress(&session, &lang, service).await {
        Ok(draft) if draft.contact.is_none() => {
            Redirect::to(&href(service, "contact")).into_response()
        }
        Ok(draft) => CheckPage::new(&lang, service, &draft).into_response(),
        Err(response) => response,
    }
}

/// Sends the request: the app checks every answer again, guards against a copy and a flood,
/// and makes the case.
async fn send(
    State(app): State<App>,
    lang: ResidentLang,
    ClientIp(client): ClientIp,
    FormSession(session): FormSession,
    Path(code): Path<String>,
) -> Response {
    submit(app, lang, client, session, code, false).await
}

async fn submit(
    app: App,
    lang: ResidentLang,
    client: Option<std::net::IpAddr>,
    session: Session,
    code: String,
    confirmed_new: bool,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let mut draft = match draft_in_progress(&session, &lang, service).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    let Some(contact) = draft
        .contact
        .as_ref()
        .and_then(|c| to_contact(c, lang.lang))
    else {
        return Redirect::to(&href(service, "contact")).into_response();
    };
    let request = ResidentRequest {
        service: service.code.clone(),
        answers: draft.answers.clone(),
        contact,
        places: draft.places.clone(),
        confirmed_new,
        client,
    };
    let sent = match app.report_request(request).await {
        Ok(RequestOutcome::Reported { case, confirmation }) => Sent {
            service: service.code.clone(),
            reference: case.reference.to_string(),
            due: Some(format::iso(uk_date(case.sla_due_at))),
            confirmation: confirmation.map(|c| c.as_str().to_owned()),
        },
        Ok(RequestOutcome::PossibleDuplicate(earlier)) => {
            draft.duplicate_of = Some(earlier.to_string());
            if let Err(response) = store(&session, &lang, &draft).await {
                return response;
            }
            return Redirect::to(&href(service, "duplicate")).into_response();
        }
        Ok(RequestOutcome::TooMany) => return too_many(&lang),
        Err(AppError::Case(CaseError::Invalid(problems)) | AppError::Invalid(problems)) => {
            let mut page = CheckPage::new(&lang, service, &draft);
            page.errors = check_errors(&lang, service, &draft, &problems);
            page.page.has_errors = true;
            return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
        }
        Err(error) => return unavailable(&lang, &error),
    };
    finish(&session, &lang, service, sent).await
}

/// Forgets the answers, keeps what the last page shows, and goes there.
async fn finish(session: &Session, lang: &ResidentLang, service: &Service, sent: Sent) -> Response {
    let kept = async {
        session.remove::<Draft>(DRAFT_KEY).await?;
        session.insert(SENT_KEY, &sent).await
    };
    match kept.await {
        Ok(()) => Redirect::to(&href(service, "sent")).into_response(),
        Err(error) => unavailable(lang, &error),
    }
}

/// The app's problems with the answers as a whole, each linking to the page that fixes it.
fn check_errors(
    lang: &ResidentLang,
    service: &Service,
    draft: &Draft,
    problems: &[FieldError],
) -> Vec<ErrorItem> {
    let typed = draft.contact.clone().unwrap_or_default();
    let contact_errors = contact_errors(&typed, lang.lang);
    problems
        .iter()
        .map(|problem| {
            if let Some(code) = problem.field.strip_prefix("answers.")
                && let Some(field) = find_question(service, code)
            {
                let blank = !draft.answers.contains_key(code);
                ErrorItem {
                    text: error_in(lang.lang, field, blank, problem.message.clone()),
                    href: Some(format!("{}?change=yes", question_href(service, field))),
                }
            } else if problem.field.starts_with("contact") {
                let id = problem.field.trim_start_matches("contact.");
                let text = contact_errors
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map_or_else(|| problem.message.clone(), |(_, m)| m.clone());
                ErrorItem {
                    text,
                    href: Some(format!("{}?change=yes", href(service, "contact"))),
                }
            } else {
                ErrorItem {
                    text: lang.lang.t("answers-too-long"),
                    href: None,
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The duplicate guard, and the last page.

#[derive(Template, WebTemplate)]
#[template(path = "intake_duplicate.html")]
struct DuplicatePage {
    page: ResidentChrome,
    back: String,
    action: String,
    caption: String,
    reference: String,
    error: Option<String>,
    errors: Vec<ErrorItem>,
}

impl DuplicatePage {
    fn new(lang: &ResidentLang, service: &Service, reference: String, error: bool) -> Self {
        let error = error.then(|| lang.lang.t("duplicate-missing"));
        let mut page = lang.chrome(lang.lang.t("duplicate-title"));
        page.has_errors = error.is_some();
        Self {
            page,
            back: href(service, "check"),
            action: href(service, "duplicate"),
            caption: service_name(service, lang.lang),
            errors: error
                .iter()
                .map(|text| ErrorItem {
                    text: text.clone(),
                    href: Some("#same".to_owned()),
                })
                .collect(),
            error,
            reference,
        }
    }
}

async fn duplicate(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path(code): Path<String>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    match draft_in_progress(&session, &lang, service).await {
        Ok(Draft {
            duplicate_of: Some(reference),
            ..
        }) => DuplicatePage::new(&lang, service, reference, false).into_response(),
        Ok(_) => Redirect::to(&href(service, "check")).into_response(),
        Err(response) => response,
    }
}

/// "Yes, it is the same": nothing new is made, and the resident gets the earlier reference.
/// "No": the request is sent after all.
async fn decide_duplicate(
    State(app): State<App>,
    lang: ResidentLang,
    ClientIp(client): ClientIp,
    FormSession(session): FormSession,
    Path(code): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let reference = match draft_in_progress(&session, &lang, service).await {
        Ok(Draft {
            duplicate_of: Some(reference),
            ..
        }) => reference,
        Ok(_) => return Redirect::to(&href(service, "check")).into_response(),
        Err(response) => return response,
    };
    match value(&fields, "same") {
        "yes" => {
            let sent = Sent {
                service: service.code.clone(),
                reference,
                due: None,
                confirmation: None,
            };
            finish(&session, &lang, service, sent).await
        }
        "no" => submit(app, lang, client, session, code, true).await,
        _ => {
            let page = DuplicatePage::new(&lang, service, reference, true);
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "intake_sent.html")]
struct SentPage {
    page: ResidentChrome,
    reference: String,
    /// "Wednesday 9 December 2026", for a request made now.
    due: Option<String>,
    confirmation: Option<&'static str>,
    services: String,
}

/// The confirmation panel with the reference and what happens next, or, for a request the
/// resident said they had made already, that one's reference.
async fn sent(
    State(app): State<App>,
    lang: ResidentLang,
    FormSession(session): FormSession,
    Path(code): Path<String>,
) -> Response {
    let Some(service) = app.services().get(&code) else {
        return not_found(&lang);
    };
    let sent = match session.get::<Sent>(SENT_KEY).await {
        Ok(Some(sent)) if sent.service == service.code => sent,
        Ok(_) => return expired(&lang, service),
        Err(error) => return unavailable(&lang, &error),
    };
    let due = sent.due.as_deref().and_then(format::iso_date);
    let title = if due.is_some() {
        "done-title"
    } else {
        "already-title"
    };
    let confirmation = match sent.confirmation.as_deref() {
        Some(c) if c == MessageChannel::Email.as_str() => Some("done-email"),
        Some(c) if c == MessageChannel::Sms.as_str() => Some("done-sms"),
        _ => None,
    };
    SentPage {
        page: lang.chrome(lang.lang.t(title)),
        reference: sent.reference,
        due: due.map(|d| format::weekday_date_in(lang.lang, d)),
        confirmation,
        services: "/".to_owned(),
    }
    .into_response()
}
