//! What the resident request form needs beyond storing a case: finding a recent case of the
//! same service from the same person, so that a resident who reports twice is asked before a
//! copy is made.

use async_trait::async_trait;
use casework_domain::case::Reference;
use time::OffsetDateTime;

use crate::Result;

/// The request form's side of the [`Store`](crate::Store).
#[async_trait]
pub trait IntakeStore: Send + Sync {
    /// The newest case of `service` created at or after `since` whose resident has this email
    /// address or this phone number (as normalised on the case), if there is one.
    async fn recent_case_from_contact(
        &self,
        service: &str,
        email: Option<&str>,
        phone: Option<&str>,
        since: OffsetDateTime,
    ) -> Result<Option<Reference>>;
}

/// Implements [`IntakeStore`] for `$store`, a [`Backend`](crate::shared::Backend).
macro_rules! impl_intake_store {
    ($store:ident) => {
        mod intake_impl {
            use async_trait::async_trait;
            use casework_domain::case::Reference;
            use time::OffsetDateTime;

            use super::$store;
            use $crate::Result;
            use $crate::db_time::DbTime;
            use $crate::intake::IntakeStore;
            use $crate::shared::Backend;

            #[async_trait]
            impl IntakeStore for $store {
                async fn recent_case_from_contact(
                    &self,
                    service: &str,
                    email: Option<&str>,
                    phone: Option<&str>,
                    since: OffsetDateTime,
                ) -> Result<Option<Reference>> {
                    if email.is_none() && phone.is_none() {
                        return Ok(None);
                    }
                    // One arm per contact detail, so that each is answered from its own index;
                    // an arm given NULL finds nothing.
                    let found: Option<i64> = sqlx::query_scalar(
                        "SELECT number FROM ( \
                           SELECT number, created_at FROM cases \
                           WHERE contact_email = $1 AND service = $3 AND created_at >= $4 \
                           UNION ALL \
                           SELECT number, created_at FROM cases \
                           WHERE contact_phone = $2 AND service = $3 AND created_at >= $4 \
                         ) AS recent ORDER BY created_at DESC, number DESC LIMIT 1",
                    )
                    .bind(email)
                    .bind(phone)
                    .bind(service)
                    .bind(DbTime::from(since))
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(found.map(Reference::new))
                }
            }
        }
    };
}
pub(crate) use impl_intake_store;
