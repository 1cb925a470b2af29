//! A case's conversation on the staff pages: writing from a template or from scratch, errors
//! that keep what was typed, and the dev outbox.

use casework_app::domain::service::Role;

use crate::helpers::Page;
use casework_web::on_both_databases;

on_both_databases! {
    async fn staff_write_from_a_template_and_see_the_conversation(app: TestApp) {
        let case = app.report("Sam Resident").await;
        let staff = app.sign_in("agent@council.example", Role::Agent).await;
        let path = format!("/staff/cases/{}/messages", case.reference);
        let page = staff.page(&path).await;
        assert_eq!(page.text("h1"), "Messages");
        assert!(page.text("main").contains("No messages yet."));

        let page = staff.page(&format!("{path}?template=acknowledgement")).await;
        assert!(page.text("#message-body").starts_with("Dear Sam Resident,"));
        assert!(page.text(".govuk-warning-text").contains("plan_link"));
        assert_eq!(page.value("message-subject"), format!("We have your missed bin report {}", case.reference));

        let page = staff
            .submit(
                &path,
                &[("channel", "email"), ("subject", "Your bin"), ("body", "We will be back on Tuesday."), ("template", "")],
            )
            .await;
        assert_eq!(page.text(".govuk-notification-banner__heading"), "Message sent");
        assert!(page.text(".moj-message-list").contains("We will be back on Tuesday."));
        assert!(page.text(".moj-message-list").contains("Sending"), "queued until the worker sends it");

        let timeline = staff.page(&format!("/staff/cases/{}", case.reference)).await.timeline();
        assert!(timeline.iter().any(|t| t == "Message sent by email"), "{timeline:?}");
    }

    async fn a_refused_message_keeps_what_was_typed(app: TestApp) {
        let case = app.report("Tom Typed").await;
        let staff = app.sign_in("agent@council.example", Role::Agent).await;
        let path = format!("/staff/cases/{}/messages", case.reference);
        let response = staff
            .post(&path, &[("channel", "email"), ("subject", "Kept subject"), ("body", "   ")])
            .await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let errors: Vec<String> = page.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(errors, ["Enter the message"]);
        assert_eq!(page.value("message-subject"), "Kept subject");
        assert!(page.title().starts_with("Error: "));

        let outsider = app.sign_in_to("repairs@council.example", Role::Agent, &["repairs"]).await;
        assert_eq!(outsider.get(&path).await.status(), 404);
        // The dev outbox is only there when asked for.
        assert_eq!(staff.get("/dev/outbox").await.status(), 404);
    }
}
