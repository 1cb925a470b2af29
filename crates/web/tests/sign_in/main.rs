//! Signing in and out through HTTP, as a browser does it: the real server on a random port, on
//! SQLite and on PostgreSQL.

mod helpers;

use casework_app::domain::service::Role;
use casework_store::testing::TestDatabase;
use casework_web::{WebConfig, on_both_databases};

use crate::helpers::{
    PASSWORD, location, page, session_cookie, session_set_cookie, spawn_app_with,
};

on_both_databases! {
    async fn signing_in_starts_a_session_that_opens_staff_pages(app: TestApp) {
        app.staff("jo@example.com", Role::Lead).await;
        let (status, html) = page(app.get("/staff/sign-in", None).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(html.contains(r#"<form method="post" action="/staff/sign-in""#), "{html}");
        assert!(html.contains(r#"autocomplete="current-password""#));

        let response = app.sign_in_as("Jo@Example.com", PASSWORD).await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/staff");
        let set_cookie = session_set_cookie(response.headers()).expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/staff", "Max-Age="] {
            assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
        }
        assert!(!set_cookie.contains("Secure"), "local http: {set_cookie}");
        let cookie = session_cookie(response.headers()).unwrap();

        let response = app.get("/staff/account", Some(&cookie)).send().await.unwrap();
        // Working keeps the session going: its expiry moves on (at most every five minutes).
        let refreshed = session_set_cookie(response.headers()).expect("the expiry moves on");
        assert!(refreshed.starts_with(&format!("casework_session={cookie};")), "{refreshed}");
        assert!(refreshed.contains("Max-Age=28800"), "{refreshed}");
        let (status, html) = page(response).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("jo@example.com") && html.contains("Jo Bloggs"), "{html}");
        assert!(html.contains("lead"), "{html}");
        // Already signed in: the sign-in page sends them on.
        let response = app.get("/staff/sign-in", Some(&cookie)).send().await.unwrap();
        assert_eq!((response.status().as_u16(), location(&response)), (303, "/staff"));
    }

    async fn signing_in_again_gives_a_new_session_id(app: TestApp) {
        app.staff("jo@example.com", Role::Agent).await;
        let first = app.signed_in("jo@example.com").await;
        let response = app
            .post(
                "/staff/sign-in",
                &[("email", "jo@example.com"), ("password", PASSWORD)],
                Some(&first),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let second = session_cookie(response.headers()).expect("a new session cookie");
        assert_ne!(first, second);
        let old = app.get("/staff/account", Some(&first)).send().await.unwrap();
        assert_eq!(old.status(), 303, "the old id is worth nothing");
        let new = app.get("/staff/account", Some(&second)).send().await.unwrap();
        assert_eq!(new.status(), 200);
    }

    async fn a_wrong_password_or_unknown_email_is_refused_without_a_session(app: TestApp) {
        app.staff("jo@example.com", Role::Agent).await;
        let attempts = [("jo@example.com", "not the password"), ("kim@example.com", PASSWORD)];
        for (email, password) in attempts {
            let response = app.sign_in_as(email, password).await;
            assert_eq!(response.status(), 401);
            assert_eq!(session_cookie(response.headers()), None);
            let (_, html) = page(response).await;
            assert!(html.contains("There is a problem"), "{html}");
            let summary = r##"<a href="#password">Enter a correct email address and password</a>"##;
            assert!(html.contains(summary), "{html}");
            assert!(html.contains(&format!(r#"value="{email}""#)), "the email is kept: {html}");
            assert!(!html.contains(password), "the password is never shown again");
            assert!(html.contains("<title>Error: Sign in"), "{html}");
        }

        let response = app.sign_in_as("", "").await;
        assert_eq!(response.status(), 422);
        let (_, html) = page(response).await;
        assert!(html.contains(r##"<a href="#email">Enter your email address</a>"##), "{html}");
        assert!(html.contains(r##"<a href="#password">Enter your password</a>"##), "{html}");
        assert!(html.contains("govuk-input--error"), "{html}");
    }

    async fn a_deactivated_member_of_staff_is_signed_out_and_refused(app: TestApp) {
        let jo = app.staff("jo@example.com", Role::Agent).await;
        let cookie = app.signed_in("jo@example.com").await;
        app.deactivate(&jo).await;
        let response = app.get("/staff/account", Some(&cookie)).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/staff/sign-in?next=%2Fstaff%2Faccount");
        assert_eq!(app.sign_in_as("jo@example.com", PASSWORD).await.status(), 401);
    }

    async fn signing_out_ends_the_session(app: TestApp) {
        app.staff("jo@example.com", Role::Agent).await;
        let cookie = app.signed_in("jo@example.com").await;
        let response = app.post("/staff/sign-out", &[], Some(&cookie)).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/staff/sign-in");
        let removal = session_set_cookie(response.headers()).expect("the cookie is removed");
        assert_eq!(session_cookie(response.headers()), None, "{removal}");
        // The session is gone from the database, not only from the browser.
        let replayed = app.get("/staff/account", Some(&cookie)).send().await.unwrap();
        assert_eq!(replayed.status(), 303);
    }

    async fn a_signed_out_page_sends_to_sign_in_and_back(app: TestApp) {
        app.staff("jo@example.com", Role::Agent).await;
        let response = app.get("/staff/account?tab=teams", None).send().await.unwrap();
        assert_eq!(response.status(), 303);
        let to = location(&response).to_owned();
        assert_eq!(to, "/staff/sign-in?next=%2Fstaff%2Faccount%3Ftab%3Dteams");

        let (status, html) = page(app.get(&to, None).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(html.contains(r#"name="next" value="/staff/account?tab=teams""#), "{html}");
        let response = app
            .post(
                "/staff/sign-in",
                &[
                    ("email", "jo@example.com"),
                    ("password", PASSWORD),
                    ("next", "/staff/account?tab=teams"),
                ],
                None,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/staff/account?tab=teams");

        // Never to another site.
        for next in ["//evil.example/staff", "https://evil.example/", "/\\evil.example"] {
            let response = app
                .post(
                    "/staff/sign-in",
                    &[("email", "jo@example.com"), ("password", PASSWORD), ("next", next)],
                    None,
                )
                .send()
                .await
                .unwrap();
            assert_eq!(location(&response), "/staff", "{next}");
        }
    }

    async fn forms_sent_from_another_site_are_refused(app: TestApp) {
        app.staff("jo@example.com", Role::Agent).await;
        let cookie = app.signed_in("jo@example.com").await;
        let form = [("email", "jo@example.com"), ("password", PASSWORD)];
        let from_elsewhere = app
            .post("/staff/sign-in", &form, None)
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(from_elsewhere.status(), 403);
        assert_eq!(session_cookie(from_elsewhere.headers()), None);
        let (_, html) = page(from_elsewhere).await;
        assert!(html.contains("another website"), "{html}");

        let sign_out = app
            .post("/staff/sign-out", &[], Some(&cookie))
            .header("Sec-Fetch-Site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(sign_out.status(), 403);
        let still = app.get("/staff/account", Some(&cookie)).send().await.unwrap();
        assert_eq!(still.status(), 200, "the forged sign-out did nothing");

        // The same form from Casework's own pages is fine.
        let own = app
            .post("/staff/sign-out", &[], Some(&cookie))
            .header("Sec-Fetch-Site", "same-origin")
            .header("Origin", app.address.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(own.status(), 303);
    }

    async fn failed_sign_ins_are_rate_limited(app: TestApp) {
        app.staff("jo@example.com", Role::Agent).await;
        for _ in 0..5 {
            assert_eq!(app.sign_in_as("jo@example.com", "guessing wrong").await.status(), 401);
        }
        let response = app.sign_in_as("jo@example.com", PASSWORD).await;
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "900");
        assert_eq!(session_cookie(response.headers()), None);
        let (_, html) = page(response).await;
        assert!(html.contains("You have tried to sign in too many times"), "{html}");
        assert!(html.contains(r#"value="jo@example.com""#), "{html}");
    }

    async fn a_set_password_link_sets_a_password_once_and_signs_in(app: TestApp) {
        const NEW: &str = "a brand new passphrase";
        const OTHER: &str = "someone else's choice";
        let jo = app.staff("jo@example.com", Role::Agent).await;
        let token = app.set_password_link(&jo).await;
        let path = format!("/staff/set-password/{token}");
        let response = app.get(&path, None).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let (_, html) = page(response).await;
        assert!(html.contains("jo@example.com"), "{html}");
        assert!(html.contains(r#"autocomplete="new-password""#), "{html}");

        let mismatch = app
            .post(&path, &[("password", "a new passphrase"), ("confirm", "another")], None)
            .send()
            .await
            .unwrap();
        assert_eq!(mismatch.status(), 422);
        let (_, html) = page(mismatch).await;
        let summary = r##"<a href="#confirm">Enter the same password twice</a>"##;
        assert!(html.contains(summary), "{html}");
        let short = app
            .post(&path, &[("password", "too short"), ("confirm", "too short")], None)
            .send()
            .await
            .unwrap();
        assert_eq!(short.status(), 422);
        assert!(page(short).await.1.contains("Password must be 12 characters or more"));

        let set = app
            .post(&path, &[("password", NEW), ("confirm", NEW)], None)
            .send()
            .await
            .unwrap();
        assert_eq!(set.status(), 303);
        assert_eq!(location(&set), "/staff");
        let cookie = session_cookie(set.headers()).expect("signed in");
        assert_eq!(app.get("/staff/account", Some(&cookie)).send().await.unwrap().status(), 200);
        assert_eq!(app.sign_in_as("jo@example.com", NEW).await.status(), 303);

        let (status, html) = page(app.get(&path, None).send().await.unwrap()).await;
        assert_eq!(status, 404);
        assert!(html.contains("This link does not work"), "{html}");
        let again = app
            .post(&path, &[("password", OTHER), ("confirm", OTHER)], None)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 404);
    }

    async fn the_api_takes_no_session(app: TestApp) {
        app.staff("jo@example.com", Role::Admin).await;
        let cookie = app.signed_in("jo@example.com").await;
        let response = app.get("/api/v1/cases", Some(&cookie)).send().await.unwrap();
        assert_eq!(response.status(), 401, "a session is no API key");
        assert_eq!(session_set_cookie(response.headers()), None);
    }
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured_for_https() {
    let config = WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    };
    let app = spawn_app_with(TestDatabase::sqlite(), &config).await;
    app.staff("jo@example.com", Role::Agent).await;
    let response = app.sign_in_as("jo@example.com", PASSWORD).await;
    let set_cookie = session_set_cookie(response.headers()).unwrap();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}
