//! Text message rules: opt-out keywords and how many fragments a message costs.

/// Whether a received text asks to stop all texts: the whole message is an opt-out keyword
/// (any case, surrounding spaces, quotes and punctuation ignored). A sentence that merely
/// contains "stop" ("please stop the noise next door") is a reply, not an opt-out.
pub fn is_stop(text: &str) -> bool {
    let words: Vec<String> = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .split_whitespace()
        .map(str::to_uppercase)
        .collect();
    let message = words.join(" ");
    matches!(
        message.as_str(),
        "STOP"
            | "STOP ALL"
            | "STOPALL"
            | "UNSUBSCRIBE"
            | "END"
            | "CANCEL"
            | "QUIT"
            | "OPT OUT"
            | "OPT-OUT"
            | "OPTOUT"
    )
}

/// Whether a received text asks to start texts again after a STOP: the whole message is
/// START (or UNSTOP), as with [`is_stop`].
pub fn is_start(text: &str) -> bool {
    let message = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_uppercase();
    matches!(message.as_str(), "START" | "UNSTOP")
}

/// Characters of the GSM 03.38 basic set, one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters of the GSM extension table: an escape septet and one more each.
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{0c}";

const GSM_SINGLE: usize = 160;
const GSM_PART: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_PART: usize = 67;

/// How many SMS fragments the text is sent as (0 for an empty text).
///
/// Text entirely in the GSM 7-bit alphabet fits 160 septets in one SMS, or 153 per part when
/// concatenated, the extension characters (`^{}\[~]|€`) taking two septets. Anything else is
/// sent as UCS-2: 70 UTF-16 units in one SMS, 67 per part. A character is never split across
/// two parts, as phones do not split one.
pub fn fragments(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    let gsm: Option<Vec<usize>> = text.chars().map(gsm_septets).collect();
    let (units, single, part) = match gsm {
        Some(units) => (units, GSM_SINGLE, GSM_PART),
        None => (
            text.chars().map(char::len_utf16).collect(),
            UCS2_SINGLE,
            UCS2_PART,
        ),
    };
    if units.iter().sum::<usize>() <= single {
        return 1;
    }
    let mut parts = 1;
    let mut used = 0;
    for unit in units {
        if used + unit > part {
            parts += 1;
            used = 0;
        }
        used += unit;
    }
    parts
}

fn gsm_septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}
