//! A sender for development and demos: it sends nothing and always succeeds. What "was sent"
//! is whatever the outbox recorded in its messages table.

use async_trait::async_trait;

use crate::{Outgoing, SendError, Sender, Sent};

#[derive(Debug, Clone, Copy, Default)]
pub struct DevSender;

#[async_trait]
impl Sender for DevSender {
    async fn send(&self, message: &Outgoing) -> Result<Sent, SendError> {
        tracing::info!(reference = %message.reference, channel = ?message.channel,
            "dev sender: message not sent anywhere");
        Ok(Sent {
            provider_id: Some(format!("dev-{}", message.reference)),
        })
    }

    fn name(&self) -> &'static str {
        "dev"
    }
}
