//! Replies from residents on the staff pages and the plan page: unread until read, waiting
//! replies filed by staff, attachments as downloads, STOP shown to staff, and residents writing
//! on their plan page.

use casework_app::domain::service::Role;
use casework_channels::notify::ReceivedText;

use crate::helpers::{MONDAY, Page};
use casework_web::on_both_databases;

fn email_from(address: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {address}\r\nTo: council@council.example\r\nSubject: Re: your bin\r\n\
         Message-ID: <{}@mail.example.com>\r\n\r\n{body}",
        uuid::Uuid::now_v7()
    )
    .into_bytes()
}

fn text_from(number: &str, id: &str, message: &str) -> ReceivedText {
    ReceivedText {
        id: id.into(),
        source_number: number.into(),
        destination_number: "07700900000".into(),
        message: message.into(),
        date_received: MONDAY,
    }
}

on_both_databases! {
    async fn a_reply_is_unread_until_each_member_of_staff_reads_it(app: TestApp) {
        let case = app.report("Sam Resident").await;
        let amy = app.sign_in("amy@council.example", Role::Agent).await;
        let ben = app.sign_in("ben@council.example", Role::Agent).await;
        app.app
            .receive_email(&email_from("sam.resident@example.com", "The bin is still out.\r\n"))
            .await
            .unwrap();

        let worktray = amy.page("/staff?view=unread").await;
        assert!(worktray.tabs().iter().any(|t| t == "Unread replies (1)"), "{:?}", worktray.tabs());
        assert_eq!(worktray.references(), [case.reference.to_string()]);
        assert_eq!(worktray.text("tbody .govuk-tag--purple"), "New reply");

        let messages = amy.page(&format!("/staff/cases/{}/messages", case.reference)).await;
        assert!(messages.text(".moj-message-item--received").contains("The bin is still out."));
        let worktray = amy.page("/staff?view=unread").await;
        assert!(worktray.references().is_empty(), "Amy has read it");
        assert!(worktray.tabs().iter().any(|t| t == "Unread replies (0)"));
        let open = amy.page("/staff?view=open").await;
        assert!(open.texts("tbody .govuk-tag--purple").is_empty());
        let for_ben = ben.page("/staff?view=unread").await;
        assert_eq!(for_ben.references(), [case.reference.to_string()], "Ben has not");
    }

    async fn staff_file_a_waiting_reply_on_a_case(app: TestApp) {
        let case = app.report("Sam Resident").await;
        let staff = app.sign_in("amy@council.example", Role::Agent).await;
        app.app
            .receive_text(text_from("447700900999", "in-1", "Is my bin coming?"))
            .await
            .unwrap();
        let worktray = staff.page("/staff").await;
        assert_eq!(
            worktray.text(".govuk-inset-text"),
            "1 reply from a resident is waiting to be filed on a case"
        );
        let waiting = staff.page("/staff/replies").await;
        assert!(waiting.text(".govuk-summary-card").contains("Is my bin coming?"));
        assert!(waiting.text(".govuk-summary-card").contains("No case has this resident's contact details."));
        let form = waiting.attr(".govuk-summary-card form", "action").unwrap();

        let response = staff.post(&form, &[("reference", "")]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let errors: Vec<String> = page.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(errors, ["Enter the case reference, like CW-000123"]);

        let response = staff.post(&form, &[("reference", "CW-999999")]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let errors: Vec<String> = page.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(errors, ["There is no case CW-999999 in your teams"]);
        assert_eq!(page.value_of("reference"), "CW-999999", "what was typed is kept");

        let reference = case.reference.to_string().to_lowercase();
        let page = staff.submit(&form, &[("reference", &reference)]).await;
        assert_eq!(page.text(".govuk-notification-banner__heading"), "Reply filed on this case");
        assert!(page.text(".moj-message-list").contains("Is my bin coming?"));
        assert!(staff.page("/staff/replies").await.text("main").contains("There are no replies to file."));
        assert!(staff.page("/staff").await.texts(".govuk-inset-text").is_empty());
    }

    async fn attachments_download_and_refused_files_are_named(app: TestApp) {
        let case = app.report("Sam Resident").await;
        let staff = app.sign_in("amy@council.example", Role::Agent).await;
        let raw = "From: sam.resident@example.com\r\nTo: council@council.example\r\nSubject: Photo\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nHere is the bin.\r\n\
             --b\r\nContent-Type: application/pdf; name=\"bin.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"bin.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
             --b\r\nContent-Type: application/x-msdownload; name=\"run.exe\"\r\n\
             Content-Disposition: attachment; filename=\"run.exe\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n";
        app.app.receive_email(raw.as_bytes()).await.unwrap();
        let path = format!("/staff/cases/{}/messages", case.reference);
        let page = staff.page(&path).await;
        let received = page.text(".moj-message-item--received");
        assert!(received.contains("Here is the bin."));
        assert!(received.contains("Not kept: run.exe (this type of file is not accepted)."));
        let link = page.attr(".moj-message-item--received a[download]", "href").unwrap();
        assert_eq!(page.text(".moj-message-item--received a[download]"), "bin.pdf");

        let file = staff.get(&link).await;
        assert_eq!(file.status(), 200);
        let header = |name: &str| file.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/pdf");
        assert_eq!(header("content-disposition"), "attachment; filename=\"bin.pdf\"");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n");

        let outsider = app.sign_in_to("repairs@council.example", Role::Agent, &["repairs"]).await;
        assert_eq!(outsider.get(&link).await.status(), 404);
        assert_eq!(app.signed_out().get(&link).await.status(), 303, "sign in first");
    }

    async fn staff_see_a_stop_and_cannot_text(app: TestApp) {
        let case = app.report_repair("Sam Resident", "routine").await;
        let staff = app.sign_in_to("amy@council.example", Role::Agent, &["repairs"]).await;
        app.app
            .receive_text(text_from("447700900123", "in-1", "STOP"))
            .await
            .unwrap();
        let path = format!("/staff/cases/{}/messages", case.reference);
        let page = staff.page(&path).await;
        assert!(page.text(".govuk-warning-text").contains("The resident texted STOP on"));
        assert_eq!(page.attr("#message-channel-2", "disabled").as_deref(), Some(""));
        let response = staff.post(&path, &[("channel", "sms"), ("body", "Are you in on Tuesday?")]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let errors: Vec<String> = page.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(
            errors,
            ["The resident texted STOP, so no texts can be sent to them: choose another way to send"]
        );
        assert_eq!(page.text("#message-body"), "Are you in on Tuesday?");
    }

    async fn residents_write_on_their_plan_page(app: TestApp) {
        let case = app.report("Sam Resident").await;
        let staff = app.sign_in("amy@council.example", Role::Agent).await;
        let shared = app.app.share_plan(&casework_web::testing::system(), case.reference).await.unwrap();
        let resident = app.signed_out();
        let plan = format!("/plan/{}", shared.token);
        assert!(resident.page(&plan).await.text("#messages + p").contains("There are no messages yet."));

        let response = resident.post(&format!("{plan}/messages"), &[("message", "  ")]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        let errors: Vec<String> = page.errors().into_iter().map(|(text, _)| text).collect();
        assert_eq!(errors, ["Enter your message"]);
        let long = "x".repeat(5_001);
        let response = resident.post(&format!("{plan}/messages"), &[("message", &long)]).await;
        assert_eq!(response.status(), 422);
        let page = Page::of(response).await;
        assert_eq!(page.text("#reply-error"), "Error: Your message must be 5000 characters or fewer");
        assert_eq!(page.text("#reply"), long, "what was typed is kept");

        let page = resident
            .submit(&format!("{plan}/messages"), &[("message", "I am in all day Tuesday.")])
            .await;
        assert_eq!(page.text(".govuk-notification-banner__heading"), "Your message has been sent");
        assert!(page.text(".casework-message--you").contains("I am in all day Tuesday."));
        assert!(page.text(".casework-message--you").starts_with("You"), "written by the resident");

        let messages = staff.page(&format!("/staff/cases/{}/messages", case.reference)).await;
        assert!(messages.text(".moj-message-item--received").contains("I am in all day Tuesday."));
        assert!(messages.text(".moj-message-item--received").contains("on the plan page"));

        let welsh = resident.page(&format!("{plan}?lang=cy")).await;
        assert_eq!(welsh.text("#messages"), "Negeseuon");
        assert_eq!(welsh.text("label[for=reply]"), "Ysgrifennwch atom am eich cais");

        let cross_site = reqwest::Client::new()
            .post(format!("{}{plan}/messages", app.address))
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("message", "Forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403);
        assert_eq!(app.app.messages(&casework_web::testing::system(), case.reference).await.unwrap().len(), 1);
    }
}
