//! Replies from residents: filing them on cases (or keeping them for staff to file), their
//! attachments, the cases a reply may belong to, numbers that texted STOP, reply addresses,
//! and how far each member of staff has read each case's replies.

use async_trait::async_trait;
use casework_domain::case::{Actor, EventKind, Reference};
use casework_domain::inbound::{Attachment, Candidate, UnmatchedReply};
use casework_domain::message::{Message, MessageChannel, MessageId};
use time::OffsetDateTime;

use crate::Result;

/// The replies side of the [`Store`](crate::Store).
#[async_trait]
pub trait ReplyStore: Send + Sync {
    /// Stores a reply filed on its case, with its event and attachments, in one transaction.
    /// Returns `false`, storing nothing, when a message with the same provider id is already
    /// stored: the provider repeated its callback.
    async fn insert_reply(
        &self,
        message: &Message,
        event: &EventKind,
        attachments: &[(Attachment, Vec<u8>)],
    ) -> Result<bool>;
    /// Keeps a reply no case could be chosen for, with its attachments; `false` if one with the
    /// same provider id is already kept.
    async fn insert_unmatched(
        &self,
        reply: &UnmatchedReply,
        attachments: &[(Attachment, Vec<u8>)],
    ) -> Result<bool>;
    /// Replies waiting to be filed, oldest first.
    async fn unmatched_replies(&self, limit: u32) -> Result<Vec<UnmatchedReply>>;
    async fn unmatched_reply(&self, id: MessageId) -> Result<Option<UnmatchedReply>>;
    async fn count_unmatched(&self) -> Result<i64>;
    /// Files a waiting reply as `message` on its case, with its event. Returns `false`,
    /// changing nothing, if someone filed it first.
    async fn file_unmatched(
        &self,
        message: &Message,
        event: &EventKind,
        by: &Actor,
        at: OffsetDateTime,
    ) -> Result<bool>;
    /// The cases whose resident has one of these addresses (for `Email`) or numbers (for
    /// `Sms`), newest first, with when the council last wrote on each by that channel.
    async fn reply_candidates(
        &self,
        channel: MessageChannel,
        addresses: &[String],
    ) -> Result<Vec<Candidate>>;
    /// Records the hash of the token in an outbound email's reply address.
    async fn set_reply_token(&self, id: MessageId, hash: &str) -> Result<()>;
    /// The outbound message whose reply address has the token with this hash.
    async fn message_by_reply_token(&self, hash: &str) -> Result<Option<Message>>;
    /// The attachments of each of `messages` that has any, without their content, in one
    /// query.
    async fn attachments_of(&self, messages: &[MessageId]) -> Result<Vec<(MessageId, Attachment)>>;
    async fn attachment(
        &self,
        message: MessageId,
        position: i32,
    ) -> Result<Option<(Attachment, Vec<u8>)>>;
    /// Opts a number (international form) out of texts (`Some(at)`) or back in (`None`).
    async fn set_sms_opt_out(&self, phone: &str, at: Option<OffsetDateTime>) -> Result<()>;
    /// When the number opted out of texts, if it has.
    async fn sms_opt_out(&self, phone: &[String]) -> Result<Option<OffsetDateTime>>;
    /// Records that `reader` has read the case's replies up to `up_to`.
    async fn mark_replies_read(
        &self,
        reader: &str,
        case: Reference,
        up_to: OffsetDateTime,
    ) -> Result<()>;
    /// Those of `cases` with replies `reader` has not read.
    async fn unread_cases(&self, reader: &str, cases: &[Reference]) -> Result<Vec<Reference>>;
}

/// Implements [`ReplyStore`] for `$store`, a [`Backend`](crate::shared::Backend).
macro_rules! impl_reply_store {
    ($store:ident) => {
        mod reply_impl {
            use async_trait::async_trait;
            use casework_domain::case::{Actor, EventKind, Reference};
            use casework_domain::inbound::{Attachment, Candidate, UnmatchedReply};
            use casework_domain::message::{Message, MessageChannel, MessageId};
            use sqlx::QueryBuilder;
            use time::OffsetDateTime;

            use super::$store;
            use super::shared_impl::insert_events;
            use $crate::Result;
            use $crate::db_time::DbTime;
            use super::message_impl::{insert_message_row, message_where};
            use $crate::replies::{ReplyStore, unmatched_columns};
            use $crate::rows::{AttachmentRow, UnmatchedRow};
            use $crate::shared::Backend;

            type Db = <$store as Backend>::Db;
            type Conn = <Db as sqlx::Database>::Connection;

            async fn insert_attachments(
                conn: &mut Conn,
                message: MessageId,
                attachments: &[(Attachment, Vec<u8>)],
            ) -> Result<()> {
                for (attachment, content) in attachments {
                    sqlx::query(
                        "INSERT INTO message_attachments \
                         (message_id, position, filename, content_type, size, content) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(message.to_string())
                    .bind(attachment.position)
                    .bind(attachment.filename.as_str())
                    .bind(attachment.content_type.as_str())
                    .bind(attachment.size)
                    .bind(content.as_slice())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }


            #[async_trait]
            impl ReplyStore for $store {
                async fn insert_reply(
                    &self,
                    message: &Message,
                    event: &EventKind,
                    attachments: &[(Attachment, Vec<u8>)],
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    if !insert_message_row(&mut tx, message, true).await? {
                        return Ok(false);
                    }
                    let at = DbTime::from(message.created_at);
                    insert_events(
                        &mut tx,
                        &message.author,
                        &[(message.case.number(), at, event)],
                    )
                    .await?;
                    insert_attachments(&mut tx, message.id, attachments).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn insert_unmatched(
                    &self,
                    unmatched: &UnmatchedReply,
                    attachments: &[(Attachment, Vec<u8>)],
                ) -> Result<bool> {
                    let reply = &unmatched.reply;
                    let mut tx = self.begin_write().await?;
                    let inserted = sqlx::query(
                        "INSERT INTO unmatched_messages (id, channel, from_address, to_address, \
                         subject, body, original, provider_id, reason, received_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                    )
                    .bind(reply.id.to_string())
                    .bind(reply.channel.as_str())
                    .bind(reply.from.as_str())
                    .bind(reply.to.as_deref())
                    .bind(reply.subject.as_deref())
                    .bind(reply.body.as_str())
                    .bind(reply.original.as_deref())
                    .bind(reply.provider_id.as_deref())
                    .bind(unmatched.reason.as_str())
                    .bind(DbTime::from(reply.received_at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if !inserted {
                        return Ok(false);
                    }
                    insert_attachments(&mut tx, reply.id, attachments).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn unmatched_replies(&self, limit: u32) -> Result<Vec<UnmatchedReply>> {
                    sqlx::query_as::<_, UnmatchedRow>(concat!(
                        "SELECT ",
                        unmatched_columns!(),
                        " WHERE filed_at IS NULL ORDER BY received_at, id LIMIT $1"
                    ))
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(UnmatchedReply::try_from)
                    .collect()
                }

                async fn unmatched_reply(&self, id: MessageId) -> Result<Option<UnmatchedReply>> {
                    sqlx::query_as::<_, UnmatchedRow>(concat!(
                        "SELECT ",
                        unmatched_columns!(),
                        " WHERE id = $1 AND filed_at IS NULL"
                    ))
                    .bind(id.to_string())
                    .fetch_optional(self.reader())
                    .await?
                    .map(UnmatchedReply::try_from)
                    .transpose()
                }

                async fn count_unmatched(&self) -> Result<i64> {
                    Ok(sqlx::query_scalar(
                        "SELECT COUNT(*) FROM unmatched_messages WHERE filed_at IS NULL",
                    )
                    .fetch_one(self.reader())
                    .await?)
                }

                async fn file_unmatched(
                    &self,
                    message: &Message,
                    event: &EventKind,
                    by: &Actor,
                    at: OffsetDateTime,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let filed = sqlx::query(
                        "UPDATE unmatched_messages SET filed_case = $2, filed_by = $3, \
                         filed_at = $4 WHERE id = $1 AND filed_at IS NULL",
                    )
                    .bind(message.id.to_string())
                    .bind(message.case.number())
                    .bind(by.to_string())
                    .bind(DbTime::from(at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if !filed {
                        return Ok(false);
                    }
                    // The provider may have repeated its callback after a case was made for
                    // the resident, filing the reply already: then this only files the copy.
                    if !insert_message_row(&mut tx, message, true).await? {
                        tx.commit().await?;
                        return Ok(true);
                    }
                    insert_events(
                        &mut tx,
                        by,
                        &[(message.case.number(), DbTime::from(at), event)],
                    )
                    .await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn reply_candidates(
                    &self,
                    channel: MessageChannel,
                    addresses: &[String],
                ) -> Result<Vec<Candidate>> {
                    if addresses.is_empty() {
                        return Ok(Vec::new());
                    }
                    let column = match channel {
                        MessageChannel::Sms => "contact_phone",
                        MessageChannel::Email | MessageChannel::Plan => "contact_email",
                    };
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT c.number, c.open, (SELECT MAX(m.created_at) FROM messages m \
                         WHERE m.case_number = c.number AND m.direction = 'outbound' \
                         AND m.channel = ",
                    );
                    sql.push_bind(channel.as_str())
                        .push(format!(") FROM cases c WHERE c.{column} IN ("));
                    let mut list = sql.separated(", ");
                    for address in addresses {
                        list.push_bind(address.clone());
                    }
                    // A resident with a great many cases is matched among their latest.
                    sql.push(") ORDER BY c.number DESC LIMIT 100");
                    let rows: Vec<(i64, bool, Option<DbTime>)> =
                        sql.build_query_as().fetch_all(self.reader()).await?;
                    Ok(rows
                        .into_iter()
                        .map(|(number, open, written)| Candidate {
                            case: Reference::new(number),
                            open,
                            last_written_at: written.map(DbTime::get),
                        })
                        .collect())
                }

                async fn set_reply_token(&self, id: MessageId, hash: &str) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("UPDATE messages SET reply_token_hash = $2 WHERE id = $1")
                        .bind(id.to_string())
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn message_by_reply_token(&self, hash: &str) -> Result<Option<Message>> {
                    message_where(self.reader(), "reply_token_hash", hash).await
                }

                async fn attachments_of(
                    &self,
                    messages: &[MessageId],
                ) -> Result<Vec<(MessageId, Attachment)>> {
                    if messages.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT message_id, position, filename, content_type, size \
                         FROM message_attachments WHERE message_id IN (",
                    );
                    let mut list = sql.separated(", ");
                    for message in messages {
                        list.push_bind(message.to_string());
                    }
                    sql.push(") ORDER BY message_id, position");
                    sql.build_query_as::<AttachmentRow>()
                        .fetch_all(self.reader())
                        .await?
                        .into_iter()
                        .map(TryFrom::try_from)
                        .collect()
                }

                async fn attachment(
                    &self,
                    message: MessageId,
                    position: i32,
                ) -> Result<Option<(Attachment, Vec<u8>)>> {
                    let row: Option<(i32, String, String, i64, Vec<u8>)> = sqlx::query_as(
                        "SELECT position, filename, content_type, size, content \
                         FROM message_attachments WHERE message_id = $1 AND position = $2",
                    )
                    .bind(message.to_string())
                    .bind(position)
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(row.map(|(position, filename, content_type, size, content)| {
                        (
                            Attachment {
                                position,
                                filename,
                                content_type,
                                size,
                            },
                            content,
                        )
                    }))
                }

                async fn set_sms_opt_out(
                    &self,
                    phone: &str,
                    at: Option<OffsetDateTime>,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    match at {
                        Some(at) => {
                            sqlx::query(
                                "INSERT INTO sms_opt_outs (phone, opted_out_at) VALUES ($1, $2) \
                                 ON CONFLICT (phone) DO NOTHING",
                            )
                            .bind(phone)
                            .bind(DbTime::from(at))
                            .execute(&mut *tx)
                            .await?;
                        }
                        None => {
                            sqlx::query("DELETE FROM sms_opt_outs WHERE phone = $1")
                                .bind(phone)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn sms_opt_out(&self, phones: &[String]) -> Result<Option<OffsetDateTime>> {
                    if phones.is_empty() {
                        return Ok(None);
                    }
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT MIN(opted_out_at) FROM sms_opt_outs WHERE phone IN (",
                    );
                    let mut list = sql.separated(", ");
                    for phone in phones {
                        list.push_bind(phone.clone());
                    }
                    sql.push(")");
                    let at: Option<DbTime> =
                        sql.build_query_scalar().fetch_one(self.reader()).await?;
                    Ok(at.map(DbTime::get))
                }

                async fn mark_replies_read(
                    &self,
                    reader: &str,
                    case: Reference,
                    up_to: OffsetDateTime,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO message_reads (reader, case_number, read_up_to) \
                         VALUES ($1, $2, $3) ON CONFLICT (reader, case_number) DO UPDATE \
                         SET read_up_to = excluded.read_up_to \
                         WHERE message_reads.read_up_to < excluded.read_up_to",
                    )
                    .bind(reader)
                    .bind(case.number())
                    .bind(DbTime::from(up_to))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn unread_cases(
                    &self,
                    reader: &str,
                    cases: &[Reference],
                ) -> Result<Vec<Reference>> {
                    if cases.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT DISTINCT m.case_number FROM messages m \
                         WHERE m.direction = 'inbound' AND m.case_number IN (",
                    );
                    let mut list = sql.separated(", ");
                    for case in cases {
                        list.push_bind(case.number());
                    }
                    sql.push(") AND NOT EXISTS (SELECT 1 FROM message_reads r \
                         WHERE r.case_number = m.case_number AND r.reader = ")
                        .push_bind(reader.to_owned())
                        .push(" AND r.read_up_to >= m.created_at) ORDER BY m.case_number");
                    let numbers: Vec<i64> =
                        sql.build_query_scalar().fetch_all(self.reader()).await?;
                    Ok(numbers.into_iter().map(Reference::new).collect())
                }
            }
        }
    };
}
pub(crate) use impl_reply_store;

/// The columns of `unmatched_messages` that make an [`UnmatchedRow`](crate::rows::UnmatchedRow),
/// in its order, and the table.
macro_rules! unmatched_columns {
    () => {
        "id, channel, from_address, to_address, subject, body, original, provider_id, reason, \
         received_at FROM unmatched_messages"
    };
}
pub(crate) use unmatched_columns;
