//! Instants as both databases store them, so that SQL text and row structs can be shared.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use time::OffsetDateTime;

/// An instant truncated to whole microseconds, PostgreSQL's precision, so that what is read back
/// equals what was written on both backends.
///
/// SQLite keeps it as INTEGER unix microseconds: sqlx's text encoding writes a variable number
/// of fractional digits, and such text does not sort in time order. PostgreSQL keeps it as
/// `timestamptz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DbTime(OffsetDateTime);

impl DbTime {
    pub(crate) fn new(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let micros_only = at.nanosecond() / 1_000 * 1_000;
        Self(
            at.replace_nanosecond(micros_only)
                .expect("fewer nanoseconds stay valid"),
        )
    }

    pub(crate) fn from_micros(micros: i64) -> Result<Self, time::error::ComponentRange> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map(Self)
    }

    pub(crate) fn micros(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000)
            .expect("every OffsetDateTime fits in i64 microseconds")
    }

    pub(crate) fn get(self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for DbTime {
    fn from(at: OffsetDateTime) -> Self {
        Self::new(at)
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for DbTime {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode(self.micros(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::from_micros(<i64 as Decode<Sqlite>>::decode(value)?)?)
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode(self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<Postgres>>::decode(value).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::DbTime;

    #[test]
    fn truncates_to_microseconds_and_round_trips() {
        let at = DbTime::new(datetime!(2026-03-01 12:00:00.123456789 +01:00));
        assert_eq!(at.get(), datetime!(2026-03-01 11:00:00.123456 UTC));
        assert_eq!(DbTime::from_micros(at.micros()).unwrap(), at);
    }

    #[test]
    fn truncates_instants_before_1970_downwards() {
        let at = DbTime::new(datetime!(1969-12-31 23:59:59.9999999 UTC));
        assert_eq!(at.get(), datetime!(1969-12-31 23:59:59.999999 UTC));
        assert_eq!(at.micros(), -1);
    }
}
