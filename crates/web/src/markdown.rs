//! Markdown that staff write (a plan action's details) as HTML that is safe to put in a
//! resident's page: rendered by pulldown-cmark, then cleaned by ammonia down to paragraphs,
//! lists, emphasis and links, with the GOV.UK classes for each.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// HTML that has been cleaned, which templates show as it is (askama does not escape it again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SafeHtml(String);

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for SafeHtml {}

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut cleaner = Builder::empty();
    cleaner
        .add_tags(["p", "br", "ul", "ol", "li", "strong", "em", "code", "a"])
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([("a", HashSet::from(["href"]))]))
        .url_schemes(HashSet::from(["https", "http", "mailto", "tel"]))
        // A relative link would lead somewhere on Casework itself, which a plan has no reason to.
        .url_relative(UrlRelative::Deny)
        // Links leave a page whose address holds the resident's secret token: no `Referer`.
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "class", "govuk-link")
        .set_tag_attribute_value("p", "class", "govuk-body")
        .set_tag_attribute_value("ul", "class", "govuk-list govuk-list--bullet")
        .set_tag_attribute_value("ol", "class", "govuk-list govuk-list--number");
    cleaner
});

/// `markdown` as safe HTML. Raw HTML in it is shown as the text it is, images become their
/// alternative text, headings become bold paragraphs (the page's own headings give its outline),
/// and a line break in the text is a line break on the page, as whoever typed it saw it.
pub(crate) fn render(markdown: &str) -> SafeHtml {
    let events = Parser::new(markdown).flat_map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => vec![],
        Event::Start(Tag::Heading { .. }) => {
            vec![Event::Start(Tag::Paragraph), Event::Start(Tag::Strong)]
        }
        Event::End(TagEnd::Heading(_)) => {
            vec![Event::End(TagEnd::Strong), Event::End(TagEnd::Paragraph)]
        }
        Event::SoftBreak => vec![Event::HardBreak],
        other => vec![other],
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    SafeHtml(CLEANER.clean(&html).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(markdown: &str) -> String {
        render(markdown).0
    }

    #[test]
    fn paragraphs_lists_and_links_get_gov_uk_classes() {
        assert_eq!(
            html("Put the bin out by **7am**.\n\nThen:\n\n- wait\n- check"),
            "<p class=\"govuk-body\">Put the bin out by <strong>7am</strong>.</p>\n\
             <p class=\"govuk-body\">Then:</p>\n\
             <ul class=\"govuk-list govuk-list--bullet\">\n<li>wait</li>\n<li>check</li>\n</ul>\n"
        );
        assert_eq!(
            html("1. one\n2. two"),
            "<ol class=\"govuk-list govuk-list--number\">\n<li>one</li>\n<li>two</li>\n</ol>\n"
        );
        assert_eq!(
            html("[Bin days](https://example.gov.uk/bins)"),
            "<p class=\"govuk-body\"><a href=\"https://example.gov.uk/bins\" \
             class=\"govuk-link\" rel=\"noopener noreferrer nofollow\">Bin days</a></p>\n"
        );
    }

    #[test]
    fn lines_stay_as_typed_and_headings_are_bold_paragraphs() {
        assert_eq!(
            html("12 Mill Lane\nNewtown"),
            "<p class=\"govuk-body\">12 Mill Lane<br>\nNewtown</p>\n"
        );
        assert_eq!(
            html("# Before we come\n\nClear the path"),
            "<p class=\"govuk-body\"><strong>Before we come</strong></p>\n\
             <p class=\"govuk-body\">Clear the path</p>\n"
        );
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let out = html("<script>alert(1)</script>");
        assert!(!out.contains("<script"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        let out = html("Hello <b onclick=\"alert(1)\">there</b>");
        assert!(!out.contains("<b"), "{out}");
        assert!(out.contains("&lt;b onclick="), "{out}");
    }

    /// Only the elements and attributes the cleaner allows are in `out`, and every link is
    /// to a web address, an email address or a phone number.
    fn assert_harmless(attack: &str, out: &str) {
        let fragment = scraper::Html::parse_fragment(out);
        for element in fragment.root_element().descendent_elements().skip(1) {
            let element = element.value();
            assert!(
                ["p", "br", "ul", "ol", "li", "strong", "em", "code", "a"]
                    .contains(&element.name()),
                "{attack}: <{}> in {out}",
                element.name()
            );
            for (name, value) in element.attrs() {
                assert!(
                    ["href", "rel", "class"].contains(&name),
                    "{attack}: {name} in {out}"
                );
                if name == "href" {
                    assert!(
                        ["https://", "http://", "mailto:", "tel:"]
                            .iter()
                            .any(|scheme| value.starts_with(scheme)),
                        "{attack}: href={value} in {out}"
                    );
                }
            }
        }
    }

    #[test]
    fn script_urls_and_smuggled_attributes_do_not_survive() {
        for attack in [
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](jav&#x61;script:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[click](vbscript:msgbox(1))",
            "<a href=\"javascript:alert(1)\">click</a>",
            "[click](https://example.com \"x\\\" onmouseover=\\\"alert(1)\")",
            "[click](//evil.example/path)",
            "[click](/plan/another)",
            "[click](<javascript:alert(1)>)",
            "<javascript:alert(1)>",
            "[click][ref]\n\n[ref]: javascript:alert(1)",
        ] {
            let out = html(attack);
            assert_harmless(attack, &out);
            assert!(
                out.contains("click") || out.contains("alert"),
                "{attack}: {out}"
            );
        }
    }

    #[test]
    fn images_styles_and_frames_do_not_survive() {
        let out = html("![a tracking pixel](https://evil.example/p.gif)");
        assert_eq!(out, "<p class=\"govuk-body\">a tracking pixel</p>\n");
        for attack in [
            "<img src=x onerror=alert(1)>",
            "<style>body{display:none}</style>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg onload=alert(1)>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<!-- <script>alert(1)</script> -->",
            "<form action=\"https://evil.example\"><input name=x></form>",
        ] {
            assert_harmless(attack, &html(attack));
        }
    }

    #[test]
    fn staff_cannot_set_classes_or_ids() {
        let out = html("[x](https://example.com){: .evil #id}");
        assert!(!out.contains("evil\""), "{out}");
        assert_eq!(html(""), "");
        assert_eq!(render("**x**").to_string(), html("**x**"));
    }
}
