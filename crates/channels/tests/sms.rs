//! Opt-out keywords and SMS fragment counting.

use casework_channels::dev::DevSender;
use casework_channels::sms::{fragments, is_start, is_stop};
use casework_channels::{OutChannel, Outgoing, Sender};
use proptest::prelude::*;

#[test]
fn stop_and_its_variants_opt_out() {
    for text in [
        "STOP",
        "stop",
        "Stop.",
        " Stop! ",
        "\"STOP\"",
        "stop all",
        "STOP  ALL",
        "Stopall",
        "UNSUBSCRIBE",
        "unsubscribe.",
        "End",
        "cancel",
        "QUIT",
        "opt out",
        "Opt-out",
    ] {
        assert!(is_stop(text), "{text:?} should opt out");
    }
}

#[test]
fn start_opts_back_in_and_only_start() {
    for text in ["START", "start", " Start. ", "unstop"] {
        assert!(is_start(text), "{text:?} should opt back in");
        assert!(!is_stop(text), "{text:?} is not a STOP");
    }
    for text in ["", "Please start the repair", "started", "STOP"] {
        assert!(!is_start(text), "{text:?} should not opt back in");
    }
}

#[test]
fn replies_that_mention_stop_do_not_opt_out() {
    for text in [
        "",
        "   ",
        "Please stop the noise next door",
        "Don't stop the repair",
        "stop stop",
        "STOPPED",
        "the end",
        "Can I cancel my appointment?",
        "Yes",
    ] {
        assert!(!is_stop(text), "{text:?} should not opt out");
    }
}

#[test]
fn gsm_text_is_160_in_one_part_then_153_per_part() {
    assert_eq!(fragments(""), 0);
    assert_eq!(fragments("a"), 1);
    assert_eq!(fragments(&"a".repeat(160)), 1);
    assert_eq!(fragments(&"a".repeat(161)), 2);
    assert_eq!(fragments(&"a".repeat(306)), 2);
    assert_eq!(fragments(&"a".repeat(307)), 3);
    // £, é and newlines are in the GSM alphabet: still one septet each.
    assert_eq!(fragments(&"£é\n".repeat(53)), 1);
}

#[test]
fn gsm_extension_characters_count_twice_and_are_not_split() {
    assert_eq!(fragments(&"€".repeat(80)), 1);
    assert_eq!(fragments(&"€".repeat(81)), 2);
    assert_eq!(fragments(&format!("{}[", "a".repeat(158))), 1);
    assert_eq!(fragments(&format!("{}[", "a".repeat(159))), 2);
    // 152 septets then an escaped pair: the pair moves whole to the second part.
    let text = format!("{}{{{}", "a".repeat(152), "a".repeat(152));
    assert_eq!(fragments(&text), 3);
    let text = format!("{}{{{}", "a".repeat(151), "a".repeat(153));
    assert_eq!(fragments(&text), 2);
}

#[test]
fn other_text_is_ucs2_at_70_then_67_per_part() {
    // Welsh ŵ and curly quotes are not in the GSM alphabet.
    assert_eq!(fragments(&"ŵ".repeat(70)), 1);
    assert_eq!(fragments(&"ŵ".repeat(71)), 2);
    assert_eq!(fragments(&format!("“{}”", "a".repeat(130))), 2);
    assert_eq!(fragments(&"ŵ".repeat(134)), 2);
    assert_eq!(fragments(&"ŵ".repeat(135)), 3);
    // An emoji is two UTF-16 units and is not split between parts.
    assert_eq!(fragments(&"😀".repeat(35)), 1);
    let text = format!("{}😀{}", "a".repeat(66), "a".repeat(66));
    assert_eq!(fragments(&text), 3);
}

proptest! {
    #[test]
    fn fragments_grow_with_the_text(text in "\\PC{0,400}", extra in "\\PC{1,20}") {
        let longer = format!("{text}{extra}");
        prop_assert!(fragments(&longer) >= fragments(&text));
        prop_assert!(fragments(&text) <= text.chars().count().max(1));
        let _ = is_stop(&text);
    }
}

#[tokio::test]
async fn the_dev_sender_sends_nothing_and_names_the_message() {
    let sent = DevSender
        .send(&Outgoing {
            reference: "msg-5".into(),
            channel: OutChannel::Sms,
            to: "07700900111".into(),
            subject: None,
            body: "Hello".into(),
            reply_to: None,
        })
        .await
        .unwrap();
    assert_eq!(sent.provider_id.as_deref(), Some("dev-msg-5"));
    assert_eq!(DevSender.name(), "dev");
}
