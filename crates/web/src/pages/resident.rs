//! What every resident page stands on: the language it is in ([`ResidentLang`]), the page
//! around it (`resident_layout.html`, filled from [`ResidentChrome`]) and the page for a link
//! that does not work. Residents have no account: their pages take no session and set no
//! cookie but the language they chose, except the request form, whose answers are kept in a
//! session of its own while it is filled in.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, REFERRER_POLICY, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router, http};
use casework_app::{App, Feature};
use time::{Date, OffsetDateTime};
use tower_http::csrf::{CsrfLayer, ProtectionError};

use super::{format, intake, not_stored, plan};
use crate::i18n::{Arg, Lang};
use crate::{WebConfig, assets, auth};

/// The cookie that keeps the language a resident chose with `?lang=`.
const COOKIE_NAME: &str = "lang";
/// The query parameter that chooses a language: `?lang=cy`.
const QUERY_NAME: &str = "lang";
/// A resident who chose a language once keeps it for a year.
const COOKIE_MAX_AGE: i64 = 365 * 24 * 60 * 60;

/// The resident pages, for the elements switched on: the shared plan, the request form.
pub(crate) fn router(app: &App, config: &WebConfig) -> Router<App> {
    let mut pages = Router::new().route("/cookies", get(cookies));
    if app.features().is_on(Feature::Plan) {
        pages = pages
            .route("/plan/{token}", get(plan::show))
            .route("/plan/{token}/actions/{id}/done", post(plan::done))
            .route("/plan/{token}/actions/{id}/undo", post(plan::undo));
        if app.features().is_on(Feature::Messaging) {
            pages = pages.route("/plan/{token}/messages", post(plan::reply));
        }
    }
    if app.features().is_on(Feature::Intake) {
        pages = pages.merge(intake::router(app, config));
    }
    pages
        .layer(Extension(auth::ClientIpHeader(
            config.client_ip_header.clone(),
        )))
        .layer(
            CsrfLayer::new().with_rejection_response(|error: ProtectionError| {
                tracing::warn!(%error, "refused a resident's form sent from another site");
                (
                    StatusCode::FORBIDDEN,
                    "This form was sent from another website, so it was not used.",
                )
                    .into_response()
            }),
        )
        .layer(from_fn_with_state(
            SecureCookies(config.secure_cookies),
            remember_language,
        ))
        .layer(map_response(private))
        .layer(map_response(not_stored))
}

#[derive(Debug, Clone, Copy)]
struct SecureCookies(bool);

/// A resident's page is reached by a secret link: its address must not leave the site in a
/// `Referer` when the resident follows a link out of it, nor be indexed by a search engine.
async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

/// `?lang=` chooses a language for this page and, through the cookie, for the pages after it.
async fn remember_language(
    State(SecureCookies(secure)): State<SecureCookies>,
    request: Request,
    next: Next,
) -> Response {
    let chosen = query_lang(request.uri().query());
    let remembered = cookie_lang(request.headers());
    let mut response = next.run(request).await;
    if let Some(lang) = chosen.filter(|lang| Some(*lang) != remembered) {
        let secure = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE_NAME}={}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax{secure}",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == QUERY_NAME)
        .and_then(|(_, value)| Lang::from_code(&value))
}

fn cookie_lang(headers: &http::HeaderMap) -> Option<Lang> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .and_then(|(_, value)| Lang::from_code(value.trim()))
}

/// The language of a resident's page: `?lang=` if the page was asked for in one, then the one
/// the resident chose before (the `lang` cookie), then one their browser asks for
/// (`Accept-Language`), then English. It also knows the page's address, for the links to the
/// same page in the other languages.
#[derive(Debug, Clone)]
pub(crate) struct ResidentLang {
    pub lang: Lang,
    /// The resident chose it, with `?lang=` now or before.
    chosen: bool,
    path: String,
    query: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for ResidentLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query();
        let chosen = query_lang(query).or_else(|| cookie_lang(&parts.headers));
        let lang = chosen
            .or_else(|| {
                parts
                    .headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|value| value.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_default();
        let path = auth::local_path(parts.uri.path()).unwrap_or("/").to_owned();
        let query = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .filter(|(name, _)| name != QUERY_NAME)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        Ok(Self {
            lang,
            chosen: chosen.is_some(),
            path,
            query,
        })
    }
}

impl ResidentLang {
    /// The page in `known`, the language the council has on record for the resident, unless
    /// the resident chose one with the language switch: what they told the council beats what
    /// their browser happens to ask for.
    pub(crate) fn preferring(self, known: Lang) -> Self {
        if self.chosen {
            self
        } else {
            Self {
                lang: known,
                ..self
            }
        }
    }

    /// The page around a resident page titled `title` (already in the page's language).
    pub(crate) fn chrome(&self, title: impl Into<String>) -> ResidentChrome {
        ResidentChrome {
            lang: self.lang,
            title: title.into(),
            has_errors: false,
            phase_banner: false,
            languages: Lang::ALL
                .into_iter()
                .map(|lang| LanguageLink {
                    code: lang.code(),
                    name: lang.t("language-name"),
                    switch_to: lang.t("language-switch-to"),
                    href: self.href_in(lang),
                    current: lang == self.lang,
                })
                .collect(),
            assets: assets::PREFIX,
        }
    }

    /// This page's address with `?lang=` for `lang`, keeping the rest of its query.
    fn href_in(&self, lang: Lang) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(&self.query);
        query.append_pair(QUERY_NAME, lang.code());
        format!("{}?{}", self.path, query.finish())
    }
}

/// What the layout around every resident page needs. Templates reach the page's language
/// through it: `{{ page.t("key") }}`, `{{ page.t_args("key", [("name", value)]) }}`,
/// `{{ page.date(day) }}`.
#[derive(Debug, Clone)]
pub(crate) struct ResidentChrome {
    pub lang: Lang,
    /// The page's own title; the layout adds the council's name, and "Error:" when
    /// `has_errors`.
    pub title: String,
    pub has_errors: bool,
    /// Show the beta banner under the header.
    pub phase_banner: bool,
    /// Every language, for the language switch.
    pub languages: Vec<LanguageLink>,
    pub assets: &'static str,
}

/// One language in the language switch: the page in it, named in it.
#[derive(Debug, Clone)]
pub(crate) struct LanguageLink {
    pub code: &'static str,
    /// "Cymraeg".
    pub name: String,
    /// "Newid yr iaith i'r Gymraeg", for screen readers.
    pub switch_to: String,
    pub href: String,
    /// The page is in this language already.
    pub current: bool,
}

impl ResidentChrome {
    pub(crate) fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub(crate) fn t_args<'a, A>(&self, key: &str, args: &[(&str, A)]) -> String
    where
        A: Into<Arg<'a>> + Clone,
    {
        self.lang.t_args(key, args)
    }

    /// The `<title>`: the page's, the council's name, and "Error:" first if the form has
    /// errors.
    pub(crate) fn full_title(&self) -> String {
        let key = if self.has_errors {
            "page-title-error"
        } else {
            "page-title"
        };
        self.t_args(key, &[("title", self.title.as_str())])
    }
}

impl ResidentChrome {
    /// "Friday 4 December 2026", "Dydd Gwener 4 Rhagfyr 2026".
    pub(crate) fn weekday_date(&self, day: &Date) -> String {
        format::weekday_date_in(self.lang, *day)
    }

    /// "4 December 2026 at 3:15pm", "4 Rhagfyr 2026 am 3:15yh", on UK clocks.
    pub(crate) fn date_time(&self, at: &OffsetDateTime) -> String {
        format::date_time_in(self.lang, *at)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "resident_cookies.html")]
struct CookiesPage {
    page: ResidentChrome,
}

/// The cookies page, which the footer of every resident page links to.
async fn cookies(lang: ResidentLang) -> CookiesPage {
    CookiesPage {
        page: lang.chrome(lang.lang.t("cookies")),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "resident_link_not_working.html")]
struct LinkNotWorkingPage {
    page: ResidentChrome,
}

/// The page for a plan link that does not work, whatever the reason: it never tells whether
/// there is such a case. The caller picks the status: 404 for a link that never was, 410 for
/// one that has expired or been withdrawn.
pub(crate) fn link_not_working(lang: &ResidentLang, status: StatusCode) -> Response {
    let page = LinkNotWorkingPage {
        page: lang.chrome(lang.lang.t("link-not-working-title")),
    };
    (status, page).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use time::macros::datetime;
    use tower::ServiceExt;

    use super::*;
    use crate::markdown::{SafeHtml, render};
    use crate::pages::ErrorItem;

    /// What a plan page will do with the layout and its partials.
    #[derive(Template)]
    #[template(
        ext = "html",
        source = r#"{% extends "resident_layout.html" %}
{% block content %}
{% include "resident_error_summary.html" %}
<p id="due">{{ page.t_args("action-due", [("date", page.weekday_date(due))]) }}</p>
<p id="weekday">{{ page.weekday_date(due) }}</p>
<p id="done">{{ page.t_args("action-completed", [("date", page.date_time(done_at)), ("by", "resident".to_owned())]) }}</p>
<p id="at">{{ page.date_time(done_at) }}</p>
<p id="left">{{ page.t_args("actions-left", [("count", count)]) }}</p>
<div id="details">{{ details }}</div>
{% include "resident_print_button.html" %}
{% endblock %}"#
    )]
    struct Sample {
        page: ResidentChrome,
        errors: Vec<ErrorItem>,
        due: Date,
        done_at: OffsetDateTime,
        count: usize,
        details: SafeHtml,
    }

    fn sample(lang: Lang, errors: Vec<ErrorItem>) -> String {
        let resident = ResidentLang {
            lang,
            chosen: true,
            path: "/plan/abc".to_owned(),
            query: Vec::new(),
        };
        let mut page = resident.chrome(lang.t("plan-title"));
        page.has_errors = !errors.is_empty();
        page.phase_banner = true;
        Sample {
            page,
            errors,
            due: datetime!(2026-12-04 0:00 UTC).date(),
            done_at: datetime!(2026-07-01 23:30 UTC),
            count: 3,
            details: render("Ring **first**.\n\n<script>alert(1)</script>"),
        }
        .render()
        .unwrap()
    }

    async fn resident(uri: &str, headers: &[(&str, &str)]) -> ResidentLang {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        let Ok(lang) = ResidentLang::from_request_parts(&mut parts, &()).await;
        lang
    }

    #[tokio::test]
    async fn the_language_on_record_beats_the_browser_but_not_a_choice() {
        let browser = resident("/plan/x", &[("accept-language", "en-GB")]).await;
        assert_eq!(browser.preferring(Lang::Cy).lang, Lang::Cy);
        let chosen = resident("/plan/x", &[("cookie", "lang=en")]).await;
        assert_eq!(chosen.preferring(Lang::Cy).lang, Lang::En);
        let asked = resident("/plan/x?lang=en", &[]).await;
        assert_eq!(asked.preferring(Lang::Cy).lang, Lang::En);
    }

    #[tokio::test]
    async fn the_query_beats_the_cookie_which_beats_the_browser() {
        type Headers = &'static [(&'static str, &'static str)];
        let cases: &[(&str, Headers, Lang)] = &[
            ("/plan/x", &[], Lang::En),
            ("/plan/x?lang=cy", &[], Lang::Cy),
            ("/plan/x?lang=CY", &[("cookie", "lang=en")], Lang::Cy),
            ("/plan/x?lang=fr", &[("cookie", "lang=cy")], Lang::Cy),
            ("/plan/x", &[("cookie", "a=b; lang=cy; c=d")], Lang::Cy),
            (
                "/plan/x",
                &[("cookie", "lang=en"), ("accept-language", "cy")],
                Lang::En,
            ),
            (
                "/plan/x",
                &[("accept-language", "cy-GB,en;q=0.5")],
                Lang::Cy,
            ),
            (
                "/plan/x",
                &[("cookie", "lang=xx"), ("accept-language", "cy")],
                Lang::Cy,
            ),
        ];
        for (uri, headers, expected) in cases {
            assert_eq!(
                resident(uri, headers).await.lang,
                *expected,
                "{uri} {headers:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_switch_links_to_the_same_page_in_each_other_language() {
        let chrome = resident("/plan/abc?lang=cy&page=2", &[])
            .await
            .chrome("Teitl");
        let links: Vec<_> = chrome
            .languages
            .iter()
            .map(|l| (l.code, l.name.as_str(), l.href.as_str(), l.current))
            .collect();
        assert_eq!(
            links,
            [
                ("en", "English", "/plan/abc?page=2&lang=en", false),
                ("cy", "Cymraeg", "/plan/abc?page=2&lang=cy", true),
            ]
        );
        assert_eq!(
            chrome.languages[0].switch_to,
            "Change the language to English"
        );
        assert_eq!(chrome.languages[1].switch_to, "Newid yr iaith i'r Gymraeg");
        assert_eq!(chrome.full_title(), "Teitl – Eich cyngor");
    }

    #[tokio::test]
    async fn the_switch_never_links_to_another_site() {
        let chrome = resident("//evil.example/x", &[]).await.chrome("Title");
        assert_eq!(chrome.languages[1].href, "/?lang=cy");
    }

    #[tokio::test]
    async fn the_not_working_page_is_in_the_resident_language_with_the_status_asked_for() {
        let lang = resident("/plan/x?lang=cy", &[]).await;
        let response = link_not_working(&lang, StatusCode::GONE);
        assert_eq!(response.status(), StatusCode::GONE);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("<html lang=\"cy\""), "{html}");
        assert!(
            html.contains("Nid yw&#39;r ddolen hon yn gweithio"),
            "{html}"
        );
        assert!(html.contains("Neidio i&#39;r prif gynnwys"), "{html}");
        assert!(html.contains("hreflang=\"en\""), "{html}");
    }

    #[test]
    fn the_page_title_says_error_first_when_a_form_has_errors() {
        let mut chrome = ResidentChrome {
            lang: Lang::En,
            title: "Your plan".to_owned(),
            has_errors: true,
            phase_banner: false,
            languages: Vec::new(),
            assets: assets::PREFIX,
        };
        assert_eq!(chrome.full_title(), "Error: Your plan – Your council");
        chrome.lang = Lang::Cy;
        assert_eq!(chrome.full_title(), "Gwall: Your plan – Eich cyngor");
    }

    #[test]
    fn a_plan_page_can_show_dates_counts_details_and_errors_in_welsh() {
        let html = sample(
            Lang::Cy,
            vec![ErrorItem {
                text: "Dewiswch".to_owned(),
                href: Some("#x".to_owned()),
            }],
        );
        for expected in [
            "<html lang=\"cy\"",
            "<title>Gwall: Eich cynllun – Eich cyngor</title>",
            "Mae problem wedi codi",
            "<a href=\"#x\">Dewiswch</a>",
            "<p id=\"due\">I&#39;w wneud erbyn Dydd Gwener 4 Rhagfyr 2026</p>",
            "<p id=\"weekday\">Dydd Gwener 4 Rhagfyr 2026</p>",
            "<p id=\"done\">Wedi&#39;i gwblhau gennych chi ar 2 Gorffennaf 2026 am 12:30yb</p>",
            "<p id=\"at\">2 Gorffennaf 2026 am 12:30yb</p>",
            "<p id=\"left\">3 pheth ar ôl i&#39;w gwneud</p>",
            "<p class=\"govuk-body\">Ring <strong>first</strong>.</p>",
            "&lt;script&gt;",
            "data-casework-print hidden>Argraffu&#39;r dudalen hon</button>",
            "govuk-phase-banner",
        ] {
            assert!(html.contains(expected), "{expected} in {html}");
        }
        assert!(!html.contains("<script>alert"), "{html}");
    }

    #[test]
    fn a_plan_page_without_errors_has_no_summary() {
        let html = sample(Lang::En, Vec::new());
        assert!(!html.contains("govuk-error-summary"), "{html}");
        assert!(
            html.contains("<title>Your plan – Your council</title>"),
            "{html}"
        );
        assert!(
            html.contains("<p id=\"due\">Due by Friday 4 December 2026</p>"),
            "{html}"
        );
        assert!(
            html.contains("<p id=\"at\">2 July 2026 at 12:30am</p>"),
            "{html}"
        );
    }

    async fn set_cookie(secure: bool, uri: &str, cookie: Option<&str>) -> Option<String> {
        let router: Router = Router::new()
            .route("/", get(|| async { "page" }))
            .layer(from_fn_with_state(SecureCookies(secure), remember_language));
        let mut request = Request::builder().uri(uri);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = router
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        response
            .headers()
            .get(SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn the_chosen_language_is_remembered_securely_over_https() {
        assert_eq!(
            set_cookie(true, "/?lang=cy", None).await.as_deref(),
            Some("lang=cy; Path=/; Max-Age=31536000; SameSite=Lax; Secure")
        );
        assert_eq!(
            set_cookie(false, "/?lang=cy", None).await.as_deref(),
            Some("lang=cy; Path=/; Max-Age=31536000; SameSite=Lax")
        );
        assert_eq!(set_cookie(false, "/?lang=cy", Some("lang=cy")).await, None);
        assert_eq!(set_cookie(false, "/?lang=fr", None).await, None);
        assert_eq!(set_cookie(false, "/", None).await, None);
    }
}
