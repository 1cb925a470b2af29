//! Messages with residents, and the outbox that sends them: a message is written with its
//! event and the job that sends it, in one transaction.

use async_trait::async_trait;
use casework_domain::case::{EventKind, Reference};
use casework_domain::message::{Message, MessageId, MessageStatus};
use time::OffsetDateTime;

use crate::{NewJob, Result};

/// A message's new status, and what came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: MessageStatus,
    /// The provider's id, when it is first known (on sending).
    pub provider_id: Option<String>,
    /// The sender that took it, on sending.
    pub sender: Option<String>,
    pub error: Option<String>,
    pub at: OffsetDateTime,
}

/// The messages side of the [`Store`](crate::Store).
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message with its event and the jobs that act on it (for an outbound message,
    /// the one that sends it), in one transaction.
    async fn insert_message(
        &self,
        message: &Message,
        event: &EventKind,
        jobs: &[NewJob],
    ) -> Result<()>;
    async fn message(&self, id: MessageId) -> Result<Option<Message>>;
    /// The message a provider knows by this id.
    async fn message_by_provider_id(&self, provider_id: &str) -> Result<Option<Message>>;
    /// A case's messages, oldest first.
    async fn messages(&self, case: Reference) -> Result<Vec<Message>>;
    /// The latest messages a sender took, newest first: the dev outbox.
    async fn messages_sent_by(&self, sender: &str, limit: u32) -> Result<Vec<Message>>;
    /// Moves a message from status `from` to the change's, with an event if given. Returns
    /// `false`, changing nothing, if its status is no longer `from`: another worker or receipt
    /// got there first.
    async fn change_message_status(
        &self,
        id: MessageId,
        from: MessageStatus,
        change: &StatusChange,
        event: Option<&EventKind>,
    ) -> Result<bool>;
}

/// Implements [`MessageStore`] for `$store`, a [`Backend`](crate::shared::Backend).
macro_rules! impl_message_store {
    ($store:ident) => {
        mod message_impl {
            use async_trait::async_trait;
            use casework_domain::case::{Actor, EventKind, Reference};
            use casework_domain::message::{Message, MessageId, MessageStatus};
            use sqlx::QueryBuilder;

            use super::$store;
            use super::shared_impl::{insert_events, upsert_jobs};
            use $crate::db_time::DbTime;
            use $crate::messages::{
                MessageStore, StatusChange, insert_message_sql, message_columns,
            };
            use $crate::rows::MessageRow;
            use $crate::shared::Backend;
            use $crate::{NewJob, Result};

            type Conn = <<$store as Backend>::Db as sqlx::Database>::Connection;

            /// Inserts the message's row. With `skip_duplicate`, a message whose provider id
            /// is already stored is left out, and the answer is `false`.
            pub(super) async fn insert_message_row(
                conn: &mut Conn,
                message: &Message,
                skip_duplicate: bool,
            ) -> Result<bool> {
                let sql = if skip_duplicate {
                    concat!(insert_message_sql!(), " ON CONFLICT DO NOTHING")
                } else {
                    insert_message_sql!()
                };
                let inserted = sqlx::query(sql)
                .bind(message.id.to_string())
                .bind(message.case.number())
                .bind(message.direction.as_str())
                .bind(message.channel.as_str())
                .bind(message.to.as_deref())
                .bind(message.from.as_deref())
                .bind(message.subject.as_deref())
                .bind(message.body.as_str())
                .bind(message.original.as_deref())
                .bind(message.template.as_deref())
                .bind(message.author.to_string())
                .bind(message.status.as_str())
                .bind(message.provider_id.as_deref())
                .bind(message.sender.as_deref())
                .bind(message.error.as_deref())
                .bind(DbTime::from(message.created_at))
                .bind(DbTime::from(message.status_at))
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(inserted == 1)
            }

            /// The message whose `column` holds `value`: a column that identifies a message
            /// (its id, the provider's id for it, its reply address's token).
            pub(super) async fn message_where(
                reader: &sqlx::Pool<<$store as Backend>::Db>,
                column: &'static str,
                value: &str,
            ) -> Result<Option<Message>> {
                let mut sql = QueryBuilder::new(concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages WHERE "
                ));
                sql.push(column).push(" = ").push_bind(value);
                sql.build_query_as::<MessageRow>()
                    .fetch_optional(reader)
                    .await?
                    .map(Message::try_from)
                    .transpose()
            }

            #[async_trait]
            impl MessageStore for $store {
                async fn insert_message(
                    &self,
                    message: &Message,
                    event: &EventKind,
                    jobs: &[NewJob],
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    insert_message_row(&mut tx, message, false).await?;
                    let at = DbTime::from(message.created_at);
                    insert_events(
                        &mut tx,
                        &message.author,
                        &[(message.case.number(), at, event)],
                    )
                    .await?;
                    upsert_jobs(&mut tx, jobs).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn message(&self, id: MessageId) -> Result<Option<Message>> {
                    message_where(self.reader(), "id", &id.to_string()).await
                }

                async fn message_by_provider_id(
                    &self,
                    provider_id: &str,
                ) -> Result<Option<Message>> {
                    message_where(self.reader(), "provider_id", provider_id).await
                }

                async fn messages(&self, case: Reference) -> Result<Vec<Message>> {
                    sqlx::query_as::<_, MessageRow>(concat!(
                        "SELECT ",
                        message_columns!(),
                        " FROM messages WHERE case_number = $1 ORDER BY created_at, id"
                    ))
                    .bind(case.number())
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(Message::try_from)
                    .collect()
                }

                async fn messages_sent_by(
                    &self,
                    sender: &str,
                    limit: u32,
                ) -> Result<Vec<Message>> {
                    sqlx::query_as::<_, MessageRow>(concat!(
                        "SELECT ",
                        message_columns!(),
                        " FROM messages WHERE sender = $1 ORDER BY status_at DESC LIMIT $2"
                    ))
                    .bind(sender)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(Message::try_from)
                    .collect()
                }

                async fn change_message_status(
                    &self,
                    id: MessageId,
                    from: MessageStatus,
                    change: &StatusChange,
                    event: Option<&EventKind>,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let at = DbTime::from(change.at);
                    let case: Option<i64> = sqlx::query_scalar(
                        "UPDATE messages SET status = $3, \
                         provider_id = COALESCE($4, provider_id), sender = COALESCE($7, sender), \
                         error = $5, status_at = $6 \
                         WHERE id = $1 AND status = $2 RETURNING case_number",
                    )
                    .bind(id.to_string())
                    .bind(from.as_str())
                    .bind(change.status.as_str())
                    .bind(change.provider_id.as_deref())
                    .bind(change.error.as_deref())
                    .bind(at)
                    .bind(change.sender.as_deref())
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(case) = case else {
                        return Ok(false);
                    };
                    if let Some(event) = event {
                        insert_events(&mut tx, &Actor::System, &[(case, at, event)]).await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                }
            }
        }
    };
}
pub(crate) use impl_message_store;

/// The columns of `messages` that make a [`MessageRow`](crate::rows::MessageRow), in its order.
macro_rules! message_columns {
    () => {
        "id, case_number, direction, channel, to_address, from_address, subject, body, \
         original, template, author, status, provider_id, sender, error, created_at, status_at"
    };
}
pub(crate) use message_columns;

/// The statement that inserts a message, every column bound in `messages`' order.
macro_rules! insert_message_sql {
    () => {
        "INSERT INTO messages (id, case_number, direction, channel, to_address, from_address, \
         subject, body, original, template, author, status, provider_id, sender, error, \
         created_at, status_at) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    };
}
pub(crate) use insert_message_sql;
