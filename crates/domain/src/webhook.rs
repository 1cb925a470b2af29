//! Outbound webhooks: which case events another system can subscribe to, which addresses it
//! may be sent to, what a delivery's body says, and how it is signed.
//!
//! A delivery is signed with HMAC-SHA256 over `"{timestamp}.{body}"`, keyed with the endpoint's
//! secret, and the result goes in the `Casework-Signature` header as `t=<unix seconds>,v1=<hex>`
//! (docs/webhooks.md tells integrators how to check it). Signing the timestamp with the body
//! lets a receiver refuse an old delivery replayed by whoever saw it on the way.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::json;
use sha2_hmac::Sha256;
use time::OffsetDateTime;
use url::{Host, Url};

use crate::case::{EventKind, Reference};

/// The header a delivery's signature travels in.
pub const SIGNATURE_HEADER: &str = "Casework-Signature";
/// How many times a delivery is tried before it is marked failed. Below the worker's own limit
/// on a job's attempts, so that it is the delivery that records the giving up.
pub const MAX_ATTEMPTS: i32 = 8;
/// The longest endpoint address we keep.
const MAX_URL: usize = 2_000;

/// A kind of event another system can subscribe to. Each follows one kind of case event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum WebhookEvent {
    #[serde(rename = "case.created")]
    CaseCreated,
    #[serde(rename = "case.transitioned")]
    CaseTransitioned,
    /// A transition that left the case closed.
    #[serde(rename = "case.closed")]
    CaseClosed,
    #[serde(rename = "message.received")]
    MessageReceived,
    #[serde(rename = "plan_action.completed")]
    PlanActionCompleted,
}

impl WebhookEvent {
    pub const ALL: [Self; 5] = [
        Self::CaseCreated,
        Self::CaseTransitioned,
        Self::CaseClosed,
        Self::MessageReceived,
        Self::PlanActionCompleted,
    ];

    /// The name in a delivery's `type` and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaseCreated => "case.created",
            Self::CaseTransitioned => "case.transitioned",
            Self::CaseClosed => "case.closed",
            Self::MessageReceived => "message.received",
            Self::PlanActionCompleted => "plan_action.completed",
        }
    }

    /// What an admin reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::CaseCreated => "Case created",
            Self::CaseTransitioned => "Case moved to another state",
            Self::CaseClosed => "Case closed",
            Self::MessageReceived => "Message received from a resident",
            Self::PlanActionCompleted => "Plan action completed",
        }
    }

    /// The [`EventKind::name`] of the case events this follows.
    pub fn event_kind(self) -> &'static str {
        match self {
            Self::CaseCreated => "created",
            Self::CaseTransitioned | Self::CaseClosed => "transitioned",
            Self::MessageReceived => "message_received",
            Self::PlanActionCompleted => "plan_action_completed",
        }
    }

    /// Whether it follows its case event only when the case is closed afterwards.
    pub fn only_when_closed(self) -> bool {
        self == Self::CaseClosed
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no webhook event \"{0}\"")]
pub struct UnknownWebhookEvent(pub String);

impl FromStr for WebhookEvent {
    type Err = UnknownWebhookEvent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|event| event.as_str() == s)
            .ok_or_else(|| UnknownWebhookEvent(s.to_owned()))
    }
}

/// Why an address cannot be an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error("Enter the full address, such as https://example.org/casework")]
    Invalid,
    #[error("The address must be at most {MAX_URL} characters")]
    TooLong,
    #[error("The address must start with https://")]
    NotHttps,
    #[error("The address must not contain a user name or password")]
    Credentials,
    /// The host is, or resolves to, an address on this machine or a private network.
    #[error("The address must be on the public internet, not a local or private network")]
    NotPublic,
}

/// An address deliveries may be posted to: http(s) with a host, and https on a public host
/// unless the admin allowed otherwise for a local or test system. A host name is checked here
/// only if it names this machine; what it resolves to is checked by whoever resolves it, at
/// registration and again at each delivery, since DNS can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    pub fn parse(text: &str, allow_private: bool) -> Result<Self, UrlProblem> {
        let text = text.trim();
        if text.len() > MAX_URL {
            return Err(UrlProblem::TooLong);
        }
        let url = Url::parse(text).map_err(|_| UrlProblem::Invalid)?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err(UrlProblem::Invalid);
        }
        // Credentials would be kept in clear and shown in lists; the signature authenticates us.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlProblem::Credentials);
        }
        if allow_private {
            return Ok(Self(url));
        }
        if url.scheme() != "https" {
            return Err(UrlProblem::NotHttps);
        }
        let public = match url.host() {
            Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.');
                name != "localhost" && !name.ends_with(".localhost")
            }
            None => false,
        };
        if !public {
            return Err(UrlProblem::NotPublic);
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host to resolve, without the brackets of an IPv6 address.
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    /// The port, or the scheme's own.
    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `ip` is on the public internet: not this machine, a private or shared network, a
/// link-local, documentation, multicast or reserved range.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    let first = segments[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        // IPv4-compatible (deprecated) addresses, ::/96.
        || segments[..6] == [0; 6]
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first & 0xff00) == 0xff00
        || (first == 0x2001 && segments[1] == 0x0db8)
        // 6to4 embeds any IPv4 address, private ones too.
        || first == 0x2002)
}

/// The hex HMAC-SHA256 of `"{timestamp}.{body}"` keyed with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let bytes = mac(secret, timestamp, body).finalize().into_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Casework-Signature` header's value for a body sent at `timestamp` (unix seconds).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// Checks a `Casework-Signature` header as a receiver would: a `v1` that matches (compared in
/// constant time) and a timestamp within `tolerance_secs` of `now`.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: OffsetDateTime,
    tolerance_secs: i64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", hex)) => signatures.push(hex),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now.unix_timestamp() - timestamp).abs() > tolerance_secs {
        return false;
    }
    signatures.into_iter().any(|hex| {
        decode_hex(hex)
            .is_some_and(|bytes| mac(secret, timestamp, body).verify_slice(&bytes).is_ok())
    })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// The case a delivery is about, as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayloadCase {
    pub reference: Reference,
    pub service: String,
    pub state: String,
}

/// A delivery's JSON body. It names the case and what happened, and leaves out the resident's
/// contact details, answers and message text: a receiver that needs more asks the API, which
/// checks its key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    /// The event's id: the same in every attempt, so that a receiver can ignore repeats.
    pub id: i64,
    #[serde(rename = "type")]
    pub event: WebhookEvent,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub case: PayloadCase,
    pub details: serde_json::Value,
}

impl Payload {
    pub fn new(
        id: i64,
        event: WebhookEvent,
        occurred_at: OffsetDateTime,
        case: PayloadCase,
        kind: &EventKind,
    ) -> Self {
        Self {
            id,
            event,
            occurred_at,
            case,
            details: details(kind),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a payload is plain data")
    }
}

/// What a subscriber needs of an event, and no more.
fn details(kind: &EventKind) -> serde_json::Value {
    match kind {
        EventKind::Created {
            state,
            priority,
            external,
            via,
        } => {
            let mut details = json!({ "state": state, "priority": priority, "external": external });
            // Only where the case came from is known: the request form says so.
            if let Some(via) = via {
                details["via"] = json!(via);
            }
            details
        }
        EventKind::Transitioned {
            transition,
            from,
            to,
        } => json!({ "transition": transition, "from": from, "to": to }),
        EventKind::MessageReceived { message, channel } => {
            json!({ "message": message, "channel": channel })
        }
        EventKind::PlanActionCompleted {
            action,
            owner,
            title,
        } => json!({ "action": action, "owner": owner, "title": title }),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn event_names_round_trip_and_follow_case_events() {
        for event in WebhookEvent::ALL {
            assert_eq!(event.as_str().parse::<WebhookEvent>(), Ok(event));
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                json!(event.as_str()),
                "{event}"
            );
        }
        assert!("case.deleted".parse::<WebhookEvent>().is_err());
        assert_eq!(WebhookEvent::CaseClosed.event_kind(), "transitioned");
        assert!(WebhookEvent::CaseClosed.only_when_closed());
        assert!(!WebhookEvent::CaseTransitioned.only_when_closed());
    }

    #[test]
    fn endpoints_must_be_https_on_public_hosts() {
        let ok = EndpointUrl::parse(" https://hooks.example.org/casework?x=1 ", false).unwrap();
        assert_eq!(ok.as_str(), "https://hooks.example.org/casework?x=1");
        assert_eq!(ok.host(), "hooks.example.org");
        assert_eq!(ok.port(), 443);
        for (text, problem) in [
            ("hooks.example.org", UrlProblem::Invalid),
            ("ftp://hooks.example.org/", UrlProblem::Invalid),
            ("http://hooks.example.org/", UrlProblem::NotHttps),
            ("https://me:pw@hooks.example.org/", UrlProblem::Credentials),
            ("https://localhost/", UrlProblem::NotPublic),
            ("https://api.localhost./", UrlProblem::NotPublic),
            ("https://127.0.0.1/", UrlProblem::NotPublic),
            ("https://10.1.2.3/", UrlProblem::NotPublic),
            ("https://192.168.0.10:8443/", UrlProblem::NotPublic),
            ("https://169.254.169.254/latest", UrlProblem::NotPublic),
            ("https://[::1]/", UrlProblem::NotPublic),
            ("https://[::ffff:10.0.0.1]/", UrlProblem::NotPublic),
            ("https://[fd00::1]/", UrlProblem::NotPublic),
            // Decimal and hex forms of 127.0.0.1 are read as the address they spell.
            ("https://2130706433/", UrlProblem::NotPublic),
            ("https://0x7f.1/", UrlProblem::NotPublic),
        ] {
            assert_eq!(EndpointUrl::parse(text, false), Err(problem), "{text}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL));
        assert_eq!(EndpointUrl::parse(&long, false), Err(UrlProblem::TooLong));
    }

    #[test]
    fn the_admin_may_allow_http_and_private_hosts() {
        let local = EndpointUrl::parse("http://127.0.0.1:8080/hook", true).unwrap();
        assert_eq!(local.host(), "127.0.0.1");
        assert_eq!(local.port(), 8080);
        assert_eq!(
            EndpointUrl::parse("http://[::1]/", true).unwrap().host(),
            "::1"
        );
        // Still a web address, without credentials.
        assert_eq!(
            EndpointUrl::parse("file:///etc/passwd", true),
            Err(UrlProblem::Invalid)
        );
        assert_eq!(
            EndpointUrl::parse("http://u:p@127.0.0.1/", true),
            Err(UrlProblem::Credentials)
        );
    }

    #[test]
    fn public_addresses_are_told_from_the_rest() {
        for ip in [
            "8.8.8.8",
            "81.2.69.160",
            "2a00:1450:4009:81f::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "100.64.0.1",
            "172.31.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        let header = signature_header("whsec_test", 1_700_000_000, br#"{"id":1}"#);
        assert_eq!(
            header,
            format!(
                "t=1700000000,v1={}",
                signature("whsec_test", 1_700_000_000, br#"{"id":1}"#)
            )
        );
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_100).unwrap();
        assert!(verify_signature(
            "whsec_test",
            &header,
            br#"{"id":1}"#,
            now,
            300
        ));
        assert!(!verify_signature(
            "whsec_other",
            &header,
            br#"{"id":1}"#,
            now,
            300
        ));
        assert!(!verify_signature(
            "whsec_test",
            &header,
            br#"{"id":2}"#,
            now,
            300
        ));
        let later = OffsetDateTime::from_unix_timestamp(1_700_001_000).unwrap();
        assert!(!verify_signature(
            "whsec_test",
            &header,
            br#"{"id":1}"#,
            later,
            300
        ));
        assert!(!verify_signature(
            "whsec_test",
            "v1=00",
            br#"{"id":1}"#,
            now,
            300
        ));
    }

    #[test]
    fn the_signature_is_standard_hmac_sha256() {
        // As another implementation has it: printf '0.hello' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", 0, b"hello"),
            "552b25b10c33de2db9fe7fa273d44ab105d596c023fa954d01444d4642487149"
        );
    }

    #[test]
    fn payloads_carry_the_event_and_no_contact_details() {
        let payload = Payload::new(
            42,
            WebhookEvent::CaseTransitioned,
            datetime!(2026-12-07 10:00 UTC),
            PayloadCase {
                reference: Reference::new(7),
                service: "missed-bin".into(),
                state: "closed".into(),
            },
            &EventKind::Transitioned {
                transition: "close".into(),
                from: "open".into(),
                to: "closed".into(),
            },
        );
        let body: serde_json::Value = serde_json::from_slice(&payload.to_json()).unwrap();
        assert_eq!(
            body,
            json!({
                "id": 42,
                "type": "case.transitioned",
                "occurred_at": "2026-12-07T10:00:00Z",
                "case": {"reference": "CW-000007", "service": "missed-bin", "state": "closed"},
                "details": {"transition": "close", "from": "open", "to": "closed"}
            })
        );
    }
}
