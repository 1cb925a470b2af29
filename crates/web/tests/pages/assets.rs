use casework_app::domain::service::Role;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};

use crate::helpers::TestApp;
use casework_web::on_both_databases;

const FOR_A_YEAR: &str = "public, max-age=31536000, immutable";

async fn fetch(app: &TestApp, path: &str) -> (u16, String, String, Vec<u8>) {
    let response = reqwest::get(format!("{}{path}", app.address))
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, cache) = (header(CONTENT_TYPE), header(CACHE_CONTROL));
    let status = response.status().as_u16();
    (
        status,
        content_type,
        cache,
        response.bytes().await.unwrap().to_vec(),
    )
}

on_both_databases! {
    async fn assets_are_versioned_and_kept_for_a_year(app: TestApp) {
        let browser = app.sign_in("agent@example.com", Role::Agent).await;
        let page = browser.page("/staff").await;
        let stylesheets = page.attrs("link[rel=stylesheet]", "href");
        assert_eq!(stylesheets.len(), 3, "{stylesheets:?}");
        let prefix = stylesheets[0].rsplit_once('/').unwrap().0.to_owned();
        assert!(prefix.starts_with("/assets/") && prefix.len() > "/assets/".len(), "{prefix}");

        for href in &stylesheets {
            let (status, content_type, cache, _) = fetch(&app, href).await;
            assert_eq!((status, content_type.as_str(), cache.as_str()), (200, "text/css; charset=utf-8", FOR_A_YEAR), "{href}");
        }
        let script = page.attr("script[type=module]", "src").unwrap();
        let (status, content_type, cache, body) = fetch(&app, &script).await;
        assert_eq!((status, content_type.as_str(), cache.as_str()), (200, "text/javascript; charset=utf-8", FOR_A_YEAR));
        assert!(String::from_utf8(body).unwrap().contains("./govuk-frontend.min.js"));

        // The stylesheet finds its fonts and images beside it, in the same version.
        let (_, _, _, css) = fetch(&app, &format!("{prefix}/govuk-frontend.min.css")).await;
        let css = String::from_utf8(css).unwrap();
        assert!(!css.contains("url(/assets/"));
        let font = css.split("url(fonts/").nth(1).unwrap().split(')').next().unwrap();
        let (status, content_type, cache, _) = fetch(&app, &format!("{prefix}/fonts/{font}")).await;
        assert_eq!((status, cache.as_str()), (200, FOR_A_YEAR));
        assert!(content_type.starts_with("font/woff"), "{content_type}");
        let (_, _, _, moj) = fetch(&app, &format!("{prefix}/moj-frontend.min.css")).await;
        let moj = String::from_utf8(moj).unwrap();
        let image = moj.split("url(images/").nth(1).unwrap().split(')').next().unwrap();
        assert_eq!(fetch(&app, &format!("{prefix}/images/{image}")).await.0, 200, "{image}");

        // A page from another build asks for its own version: it gets this build's file, but
        // only until it asks again.
        let (status, _, cache, _) = fetch(&app, "/assets/0123456789ab/casework.css").await;
        assert_eq!((status, cache.as_str()), (200, "no-cache"));
        assert_eq!(fetch(&app, &format!("{prefix}/nothing.css")).await.0, 404);
        assert_eq!(fetch(&app, &format!("{prefix}/../Cargo.toml")).await.0, 404);
    }
}
