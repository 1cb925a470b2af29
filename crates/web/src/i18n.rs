//! The words residents read, in their language: Project Fluent messages from
//! `locales/{code}/resident.ftl` and `intake.ftl` (the request form), one set per language,
//! embedded in the binary. A message missing from a language's file is shown in English, so a
//! new language can be added a little at a time.
//!
//! Adding a language: its file, a variant of [`Lang`] and its line in [`SOURCES`].

use std::borrow::Cow;
use std::sync::LazyLock;

use casework_app::domain::case::Language;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language Casework speaks to residents in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    #[default]
    En,
    Cy,
}

/// Each language's messages, in the order of [`Lang::ALL`].
/// A language's files are read as one: the resident pages' and the request form's.
const SOURCES: [(Lang, &str); 2] = [
    (
        Lang::En,
        concat!(
            include_str!("../locales/en/resident.ftl"),
            "\n",
            include_str!("../locales/en/intake.ftl")
        ),
    ),
    (
        Lang::Cy,
        concat!(
            include_str!("../locales/cy/resident.ftl"),
            "\n",
            include_str!("../locales/cy/intake.ftl")
        ),
    ),
];

static BUNDLES: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, ftl)| bundle(*lang, ftl))
        .collect()
});

fn bundle(lang: Lang, ftl: &'static str) -> FluentBundle<FluentResource> {
    let code = lang.code();
    let resource = FluentResource::try_new(ftl.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{code}: {errors:?}"));
    let id: LanguageIdentifier = code
        .parse()
        .expect("a language code is a language identifier");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Fluent wraps arguments in Unicode direction marks for right-to-left text; the pages set
    // `lang` and are left to right, and the marks would only get in the way of copying a date.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{code}: {errors:?}"));
    bundle
}

/// A value for a message's `$argument`: text, or a number, which plural forms are chosen by.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg<'a> {
    Text(Cow<'a, str>),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Self::Text(Cow::Owned(text))
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Self::Number(n.into())
    }
}

impl Lang {
    pub(crate) const ALL: [Lang; 2] = [Lang::En, Lang::Cy];

    /// The language's code, for `lang` and `hreflang` attributes, `?lang=` and the cookie.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Cy => "cy",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|lang| lang.code().eq_ignore_ascii_case(code))
    }

    /// The language an `Accept-Language` header prefers most among ours, if it names any.
    pub(crate) fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(Self, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            let Some(lang) = Self::from_code(primary) else {
                continue;
            };
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang)
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        let index = Self::ALL
            .iter()
            .position(|l| *l == self)
            .expect("every language is in ALL");
        &BUNDLES[index]
    }

    /// The message `key` in this language, or in English if this language's file lacks it.
    pub(crate) fn t(self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with its `$arguments`, such as
    /// `lang.t_args("action-due", &[("date", due.as_str())])`; in a template,
    /// `page.t_args("action-due", [("date", due.as_str())])`.
    pub(crate) fn t_args<'a, A>(self, key: &str, args: &[(&str, A)]) -> String
    where
        A: Into<Arg<'a>> + Clone,
    {
        let mut fluent = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let value = match value.clone().into() {
                Arg::Text(text) => FluentValue::String(text),
                Arg::Number(n) => FluentValue::from(n),
            };
            fluent.set(*name, value);
        }
        self.format(key, Some(&fluent))
    }

    fn format(self, key: &str, args: Option<&FluentArgs>) -> String {
        for lang in [self, Self::En] {
            let bundle = lang.bundle();
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, args, &mut errors);
            if !errors.is_empty() {
                tracing::warn!(
                    key,
                    lang = lang.code(),
                    ?errors,
                    "a message lacks arguments"
                );
            }
            return text.into_owned();
        }
        tracing::warn!(key, "no such message in any language");
        key.to_owned()
    }
}

impl From<Language> for Lang {
    fn from(language: Language) -> Self {
        match language {
            Language::En => Self::En,
            Language::Cy => Self::Cy,
        }
    }
}

impl From<Lang> for Language {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::En => Self::En,
            Lang::Cy => Self::Cy,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use fluent_syntax::ast::Entry;
    use fluent_syntax::parser::parse;

    use super::*;

    fn ids(ftl: &str) -> BTreeSet<String> {
        let resource = parse(ftl).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(m) => Some(m.id.name.to_owned()),
                Entry::Term(t) => Some(format!("-{}", t.id.name)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_has_every_english_message() {
        let english = ids(SOURCES[0].1);
        for (lang, ftl) in &SOURCES[1..] {
            let theirs = ids(ftl);
            let missing: Vec<_> = english.difference(&theirs).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            let extra: Vec<_> = theirs.difference(&english).collect();
            assert!(extra.is_empty(), "{} has unknown {extra:?}", lang.code());
        }
    }

    #[test]
    fn the_sources_are_in_the_order_of_all() {
        let order: Vec<Lang> = SOURCES.iter().map(|(lang, _)| *lang).collect();
        assert_eq!(order, Lang::ALL);
        for lang in Lang::ALL {
            assert!(lang.bundle().has_message("language-name"));
        }
    }

    /// Every `t("key")` and `t_args("key"` in a template names an English message, so that a
    /// typo is a failing test rather than a page showing the key.
    #[test]
    fn every_key_the_templates_use_exists() {
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let english = ids(SOURCES[0].1);
        let mut used = 0;
        for entry in std::fs::read_dir(templates).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for call in ["t(\"", "t_args(\""] {
                for rest in text.split(call).skip(1) {
                    let key = rest.split('"').next().unwrap();
                    assert!(
                        english.contains(key),
                        "{}: no message {key}",
                        path.display()
                    );
                    used += 1;
                }
            }
        }
        assert!(used > 10, "the resident templates use messages");
    }

    #[test]
    fn messages_are_in_the_language_asked_for() {
        assert_eq!(
            Lang::En.t("resident-actions-heading"),
            "What you need to do"
        );
        assert_eq!(
            Lang::Cy.t("resident-actions-heading"),
            "Beth sydd angen i chi ei wneud"
        );
        assert_eq!(
            Lang::Cy.t("council-actions-heading"),
            "Beth y byddwn ni'n ei wneud"
        );
        assert_eq!(
            Lang::Cy.t_args("action-due", &[("date", "4 Rhagfyr 2026")]),
            "I'w wneud erbyn 4 Rhagfyr 2026"
        );
        assert_eq!(
            Lang::En.t_args(
                "action-completed",
                &[("date", "4 December 2026"), ("by", "resident")]
            ),
            "Completed on 4 December 2026 by you"
        );
        assert_eq!(
            Lang::Cy.t_args(
                "action-completed",
                &[("date", "4 Rhagfyr 2026"), ("by", "council")]
            ),
            "Wedi'i gwblhau gan y cyngor ar 4 Rhagfyr 2026"
        );
    }

    #[test]
    fn welsh_plurals_have_six_forms() {
        let left = |lang: Lang, n: i64| lang.t_args("actions-left", &[("count", n)]);
        assert_eq!(left(Lang::Cy, 0), "Does dim byd ar ôl i'w wneud");
        assert_eq!(left(Lang::Cy, 1), "1 peth ar ôl i'w wneud");
        assert_eq!(left(Lang::Cy, 2), "2 beth ar ôl i'w gwneud");
        assert_eq!(left(Lang::Cy, 3), "3 pheth ar ôl i'w gwneud");
        assert_eq!(left(Lang::Cy, 6), "6 pheth ar ôl i'w gwneud");
        assert_eq!(left(Lang::Cy, 4), "4 o bethau ar ôl i'w gwneud");
        assert_eq!(left(Lang::En, 0), "Nothing left to do");
        assert_eq!(left(Lang::En, 1), "1 thing left to do");
        assert_eq!(left(Lang::En, 4), "4 things left to do");
        assert_eq!(
            Lang::En.t_args("actions-left", &[("count", 2_usize)]),
            "2 things left to do"
        );
    }

    #[test]
    fn a_message_missing_from_a_language_is_shown_in_english_and_an_unknown_one_by_its_key() {
        assert_eq!(Lang::Cy.format("no-such-message", None), "no-such-message");
        let english = Lang::En.bundle();
        assert!(english.has_message("plan-title"));
        assert_eq!(Lang::En.t("no-such-message"), "no-such-message");
    }

    #[test]
    fn codes_and_accept_language() {
        assert_eq!(Lang::from_code("cy"), Some(Lang::Cy));
        assert_eq!(Lang::from_code("CY"), Some(Lang::Cy));
        assert_eq!(Lang::from_code("fr"), None);
        let pick = Lang::from_accept_language;
        assert_eq!(pick("cy"), Some(Lang::Cy));
        assert_eq!(pick("cy-GB,cy;q=0.9,en-GB;q=0.8,en;q=0.7"), Some(Lang::Cy));
        assert_eq!(pick("en-GB,en;q=0.9,cy;q=0.8"), Some(Lang::En));
        assert_eq!(pick("fr-FR, cy;q=0.5"), Some(Lang::Cy));
        assert_eq!(pick("en;q=0.4, cy;q=0.6"), Some(Lang::Cy));
        assert_eq!(pick("cy;q=0"), None);
        assert_eq!(pick("fr, de"), None);
        assert_eq!(pick(""), None);
    }

    #[test]
    fn the_domain_language_converts_both_ways() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from(Language::from(lang)), lang);
            assert_eq!(Language::from(lang).as_str(), lang.code());
        }
    }
}
