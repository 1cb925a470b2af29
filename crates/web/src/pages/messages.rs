//! Messages with the resident on the staff pages: how they read on the case's timeline.

use casework_app::domain::case::EventKind;
use casework_app::domain::message::MessageChannel;

fn by(channel: MessageChannel) -> &'static str {
    match channel {
        MessageChannel::Email => "by email",
        MessageChannel::Sms => "by text message",
        MessageChannel::Plan => "on the plan page",
    }
}

/// A message event's title and description on the MOJ timeline; other events are described
/// in `case` and `plan_editor`.
pub(super) fn timeline_entry(kind: &EventKind) -> Option<(String, Option<String>)> {
    Some(match kind {
        EventKind::MessageSent {
            channel, template, ..
        } => (
            format!("Message sent {}", by(*channel)),
            template
                .as_ref()
                .map(|t| format!("From the template “{t}”.")),
        ),
        EventKind::MessageFailed {
            channel, reason, ..
        } => (
            format!("Message {} not delivered", by(*channel)),
            Some(reason.clone()),
        ),
        EventKind::MessageReceived { channel, .. } => {
            (format!("Reply received {}", by(*channel)), None)
        }
        _ => return None,
    })
}
