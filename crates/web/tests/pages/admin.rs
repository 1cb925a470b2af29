//! The admin pages: listing staff and teams, adding a member of staff and handing over their
//! set-password link, deactivating one, making a new link, adding a team.

use casework_app::domain::service::Role;

use crate::helpers::{Browser, PASSWORD, Page, TestApp};
use casework_web::on_both_databases;

const ADMIN: &str = "admin@example.com";
const AGENT: &str = "agent@example.com";

/// The set-password link on the page shown after adding someone or making a new link, as a
/// path on the test server (the page shows it on the configured base address).
fn link_path(page: &Page) -> String {
    let link = page.text("#link");
    let start = link
        .find("/staff/set-password/")
        .unwrap_or_else(|| panic!("a set-password link in {link:?}"));
    link[start..].to_owned()
}

/// Sets a password from a link and checks that its holder is then signed in.
async fn use_link(app: &TestApp, path: &str, password: &str) -> Browser {
    let browser = app.signed_out();
    let page = browser.page(path).await;
    assert_eq!(page.text("h1"), "Set your password");
    let worktray = browser
        .submit(path, &[("password", password), ("confirm", password)])
        .await;
    assert!(
        worktray.title().ends_with("– Casework"),
        "{}",
        worktray.title()
    );
    browser
}

async fn id_of(app: &TestApp, email: &str) -> i64 {
    app.app
        .staff_member_by_email(email)
        .await
        .unwrap()
        .expect("the member of staff exists")
        .id
}

on_both_databases! {
    async fn an_admin_sees_staff_and_teams_and_the_admin_menu(app: TestApp) {
        let agent = app.sign_in(AGENT, Role::Agent).await;
        let admin = app.sign_in(ADMIN, Role::Admin).await;

        let page = admin.page("/staff/admin").await;
        assert_eq!(page.title(), "Admin – Casework");
        assert_eq!(page.text(".govuk-service-navigation__item--active"), "Admin");
        let rows = page.texts("#staff tbody tr");
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows.iter().any(|r| r.starts_with(&format!("Staff {AGENT} {AGENT} agent waste Active"))),
            "{rows:?}"
        );
        assert_eq!(page.texts("#teams tbody tr"), ["waste Waste"]);
        // An admin cannot deactivate themselves, so is not offered it.
        let deactivate = page.attrs("#staff a[href$='/deactivate']", "href");
        assert_eq!(deactivate, [format!("/staff/admin/staff/{}/deactivate", id_of(&app, AGENT).await)]);

        let worktray = admin.page("/staff").await;
        assert!(worktray.texts(".govuk-service-navigation__link").contains(&"Admin".to_owned()));
        let theirs = agent.page("/staff").await;
        assert!(!theirs.texts(".govuk-service-navigation__link").contains(&"Admin".to_owned()));
        assert_eq!(agent.get("/staff/admin").await.status(), 403);
    }

    async fn an_added_member_of_staff_sets_their_password_from_the_link(app: TestApp) {
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let form = admin.page("/staff/admin/staff").await;
        assert_eq!(form.attrs("input[name=role]", "value"), ["agent", "lead", "admin"]);
        // Teams that only a service names so far can be chosen too.
        assert_eq!(
            form.attrs("input[name=teams]", "value"),
            ["environmental-health", "housing-options", "repairs", "waste"]
        );

        let added = admin
            .post(
                "/staff/admin/staff",
                &[
                    ("name", "Sam Jones"),
                    ("email", "Sam.Jones@Example.com"),
                    ("role", "lead"),
                    ("teams", "waste"),
                    ("teams", "repairs"),
                ],
            )
            .await;
        assert_eq!(added.status(), 200);
        let page = Page::of(added).await;
        assert_eq!(page.text("h1"), "Sam Jones has been added");
        assert!(page.text("main").contains("signs in as sam.jones@example.com"), "{}", page.text("main"));

        let member = app.app.staff_member_by_email("sam.jones@example.com").await.unwrap().unwrap();
        assert_eq!((member.role, member.teams.clone()), (Role::Lead, vec!["repairs".to_owned(), "waste".to_owned()]));
        let sam = use_link(&app, &link_path(&page), "a brand new passphrase").await;
        assert_eq!(sam.page("/staff/account").await.text("main dd"), "Sam Jones");

        let list = admin.page("/staff/admin").await;
        assert!(
            list.texts("#staff tbody tr").iter().any(|r| r.starts_with("Sam Jones sam.jones@example.com lead repairs, waste Active")),
            "{:?}", list.texts("#staff tbody tr")
        );
        assert_eq!(list.texts("#teams tbody tr"), ["repairs Repairs", "waste Waste"]);
    }

    async fn errors_are_summarised_and_what_was_typed_is_kept(app: TestApp) {
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let response = admin
            .post("/staff/admin/staff", &[("name", " "), ("email", "sam at example"), ("role", "agent")])
            .await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        assert!(page.title().starts_with("Error: Add a member of staff"), "{}", page.title());
        assert_eq!(
            page.errors(),
            [
                ("Enter an email address in the correct format, like name@example.com".to_owned(), "#email".to_owned()),
                ("Enter a name".to_owned(), "#name".to_owned()),
                ("Choose at least one team whose cases they work".to_owned(), "#teams".to_owned()),
            ]
        );
        assert_eq!(page.value("email"), "sam at example");
        assert_eq!(page.attr("input[name=role][checked]", "value").unwrap(), "agent");
        assert_eq!(page.text("#teams-error"), "Error: Choose at least one team whose cases they work");
        for id in ["name", "email", "teams"] {
            assert!(page.html.select(&scraper::Selector::parse(&format!("#{id}")).unwrap()).next().is_some(), "#{id} on the page");
        }

        let response = admin
            .post("/staff/admin/staff", &[("name", "Sam Jones"), ("email", "sam@example.com"), ("teams", "waste")])
            .await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        assert_eq!(page.errors(), [("Choose their role".to_owned(), "#role".to_owned())]);
        assert_eq!(page.value("name"), "Sam Jones");
        assert_eq!(page.attr("input[name=teams][checked]", "value").unwrap(), "waste");

        let response = admin
            .post("/staff/admin/staff", &[("name", "Again"), ("email", ADMIN), ("role", "admin")])
            .await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        assert_eq!(
            page.errors(),
            [("There is already a member of staff with this email address".to_owned(), "#email".to_owned())]
        );
        assert_eq!(app.app.list_staff().await.unwrap().len(), 1);
    }

    async fn a_deactivated_member_of_staff_is_signed_out_and_cannot_sign_in(app: TestApp) {
        let agent = app.sign_in(AGENT, Role::Agent).await;
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let id = id_of(&app, AGENT).await;
        let path = format!("/staff/admin/staff/{id}/deactivate");

        let confirm = admin.page(&path).await;
        assert_eq!(confirm.text("h1"), format!("Deactivate Staff {AGENT}"));
        let list = admin.submit(&path, &[]).await;
        assert_eq!(
            list.text(".govuk-notification-banner__heading"),
            format!("Staff {AGENT} has been deactivated and signed out")
        );
        assert!(
            list.texts("#staff tbody tr").iter().any(|r| r.starts_with(&format!("Staff {AGENT} {AGENT} agent waste Deactivated"))),
            "{:?}", list.texts("#staff tbody tr")
        );

        let response = agent.get("/staff").await;
        assert_eq!(response.status(), 303, "their session has ended");
        assert!(response.headers()["location"].to_str().unwrap().starts_with("/staff/sign-in"));
        let again = app.signed_out().post("/staff/sign-in", &[("email", AGENT), ("password", PASSWORD)]).await;
        assert_eq!(again.status(), 401);
    }

    async fn an_admin_cannot_deactivate_themselves(app: TestApp) {
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let id = id_of(&app, ADMIN).await;
        let response = admin.post(&format!("/staff/admin/staff/{id}/deactivate"), &[]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        assert_eq!(page.text(".govuk-error-summary__list"), "You cannot deactivate yourself: ask another admin");
        assert_eq!(admin.get("/staff").await.status(), 200);
        assert_eq!(admin.get("/staff/admin/staff/999999/deactivate").await.status(), 404);
    }

    async fn a_new_password_link_replaces_a_forgotten_password(app: TestApp) {
        let agent = app.sign_in(AGENT, Role::Agent).await;
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        let path = format!("/staff/admin/staff/{}/password-link", id_of(&app, AGENT).await);

        let confirm = admin.page(&path).await;
        assert_eq!(confirm.text("h1"), format!("Make a new set-password link for Staff {AGENT}"));
        let response = admin.post(&path, &[]).await;
        assert_eq!(response.status(), 200);
        let page = Page::of(response).await;
        assert_eq!(page.text("h1"), format!("A new set-password link for Staff {AGENT}"));
        // Making the link changes nothing yet: they are still signed in.
        assert_eq!(agent.get("/staff").await.status(), 200);

        use_link(&app, &link_path(&page), "my new long passphrase").await;
        assert_eq!(agent.get("/staff").await.status(), 303, "their other sessions end");
        let old = app.signed_out().post("/staff/sign-in", &[("email", AGENT), ("password", PASSWORD)]).await;
        assert_eq!(old.status(), 401);
        assert_eq!(app.signed_out().get(&link_path(&page)).await.status(), 404, "the link works once");
    }

    async fn an_admin_adds_a_team(app: TestApp) {
        let admin = app.sign_in(ADMIN, Role::Admin).await;
        assert_eq!(admin.page("/staff/admin/teams").await.text("h1"), "Add a team");
        let list = admin.submit("/staff/admin/teams", &[("code", "parks"), ("name", "Parks and open spaces")]).await;
        assert_eq!(list.text(".govuk-notification-banner__heading"), "Team Parks and open spaces (parks) has been added");
        assert_eq!(list.texts("#teams tbody tr"), ["parks Parks and open spaces", "waste Waste"]);

        let response = admin.post("/staff/admin/teams", &[("code", "Parks!"), ("name", "")]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let hrefs: Vec<String> = page.errors().into_iter().map(|(_, href)| href).collect();
        assert_eq!(hrefs, ["#code", "#name"]);
        assert_eq!(page.value("code"), "Parks!");

        let response = admin.post("/staff/admin/teams", &[("code", "parks"), ("name", "Parks")]).await;
        assert_eq!(response.status(), 422);
        assert_eq!(Page::of(response).await.errors(), [("There is already a team with this code".to_owned(), "#code".to_owned())]);
    }
}
