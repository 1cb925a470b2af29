//! The resident's plan page, which for now answers every link as one that does not work, and
//! the cookies page, in the resident's language.

use casework_app::Features;
use casework_store::testing::TestDatabase;
use reqwest::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, REFERRER_POLICY, SET_COOKIE};

use crate::helpers::{Page, spawn_app, spawn_app_with};

const PATH: &str = "/plan/not-a-real-token";

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_link_that_does_not_work_says_so_in_english_without_a_cookie() {
    let app = spawn_app(TestDatabase::sqlite()).await;
    let response = app.signed_out().get(PATH).await;
    assert_eq!(response.status(), 404);
    assert_eq!(set_cookies(&response), Vec::<String>::new());
    let header = |name| {
        response
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header(CACHE_CONTROL), "no-store");
    assert_eq!(header(REFERRER_POLICY), "no-referrer");
    let page = Page::of(response).await;

    assert_eq!(page.attr("html", "lang").as_deref(), Some("en"));
    assert_eq!(page.text("h1"), "This link does not work");
    assert_eq!(page.title(), "This link does not work – Your council");
    let main = page.text("main");
    assert!(
        main.contains("The link may have expired or been withdrawn."),
        "{main}"
    );
    assert!(main.contains("ask for a new link"), "{main}");
    assert_eq!(page.text(".govuk-skip-link"), "Skip to main content");

    let switch = ".govuk-language-navigation a";
    assert_eq!(
        page.attr(switch, "href").as_deref(),
        Some("/plan/not-a-real-token?lang=cy")
    );
    assert_eq!(page.attr(switch, "hreflang").as_deref(), Some("cy"));
    assert_eq!(page.attr(switch, "lang").as_deref(), Some("cy"));
    assert_eq!(page.text(switch), "Cymraeg Newid yr iaith i'r Gymraeg");
    assert_eq!(
        page.text(".govuk-language-navigation [aria-current]"),
        "English"
    );
}

#[tokio::test]
async fn lang_cy_shows_welsh_and_is_remembered() {
    let app = spawn_app(TestDatabase::sqlite()).await;
    let browser = app.signed_out();
    let response = browser.get(&format!("{PATH}?lang=cy")).await;
    assert_eq!(response.status(), 404);
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(cookies[0].starts_with("lang=cy; Path=/;"), "{cookies:?}");
    assert!(cookies[0].contains("SameSite=Lax"), "{cookies:?}");
    assert!(!cookies[0].contains("Secure"), "plain http: {cookies:?}");
    let page = Page::of(response).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("cy"));
    assert_eq!(page.text("h1"), "Nid yw'r ddolen hon yn gweithio");
    assert_eq!(
        page.title(),
        "Nid yw'r ddolen hon yn gweithio – Eich cyngor"
    );
    assert!(page.text("main").contains("Cysylltwch â ni"));
    assert_eq!(page.text(".govuk-skip-link"), "Neidio i'r prif gynnwys");
    let switch = ".govuk-language-navigation a";
    assert_eq!(
        page.attr(switch, "href").as_deref(),
        Some("/plan/not-a-real-token?lang=en")
    );
    assert_eq!(page.attr(switch, "hreflang").as_deref(), Some("en"));

    // The cookie keeps Welsh on the next page, and is not set again.
    let response = browser.get("/plan/another-token").await;
    assert_eq!(set_cookies(&response), Vec::<String>::new());
    let page = Page::of(response).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("cy"));

    // Switching back to English is remembered in the same way.
    let response = browser.get(&format!("{PATH}?lang=en")).await;
    assert!(set_cookies(&response)[0].starts_with("lang=en;"));
    let page = Page::of(browser.get(PATH).await).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("en"));
}

#[tokio::test]
async fn a_browser_asking_for_welsh_gets_welsh() {
    let app = spawn_app(TestDatabase::sqlite()).await;
    let response = reqwest::Client::new()
        .get(format!("{}{PATH}", app.address))
        .header(ACCEPT_LANGUAGE, "cy-GB,cy;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(set_cookies(&response), Vec::<String>::new());
    let page = Page::of(response).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("cy"));
}

#[tokio::test]
async fn the_page_is_not_there_when_the_plan_is_switched_off() {
    let features: Features = "api,worktray".parse().unwrap();
    let app = spawn_app_with(TestDatabase::sqlite(), features).await;
    let response = app.signed_out().get(PATH).await;
    assert_eq!(response.status(), 404);
    let page = Page::of(response).await;
    assert_eq!(page.text("h1"), "");
}

#[tokio::test]
async fn the_footer_links_to_the_cookies_page_in_the_same_language() {
    let app = spawn_app(TestDatabase::sqlite()).await;
    let browser = app.signed_out();
    let page = Page::of(browser.get(&format!("{PATH}?lang=cy")).await).await;
    assert_eq!(
        page.attr(".govuk-footer__link", "href").as_deref(),
        Some("/cookies")
    );
    assert_eq!(page.text(".govuk-footer__link"), "Cwcis");

    let page = browser.page("/cookies").await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("cy"));
    assert_eq!(page.text("h1"), "Cwcis");
    assert_eq!(
        page.texts("tbody td"),
        [
            "lang",
            "Cofio'r iaith a ddewisoch chi",
            "Ar ôl 1 flwyddyn",
            "casework_request",
            "Cadw eich atebion tra byddwch yn llenwi cais",
            "Ar ôl 1 awr heb ateb"
        ]
    );
    let page = browser.page("/cookies?lang=en").await;
    assert_eq!(page.text("h1"), "Cookies");
}
