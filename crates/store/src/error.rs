//! Sorting sqlx's errors into those that mean "try again later" and the rest.

use sqlx::migrate::MigrateError;
use sqlx::sqlite::SqliteError;

use crate::StoreError;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            return Self::Unavailable(error);
        }
        match error {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                Self::Corrupt(error.to_string())
            }
            other => Self::Database(other),
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(error: MigrateError) -> Self {
        match error {
            MigrateError::Execute(inner) => inner.into(),
            other => Self::Database(sqlx::Error::Migrate(Box::new(other))),
        }
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<SqliteError>().is_some() {
                // Still busy once the busy timeout ran out (SQLITE_BUSY and its extended codes).
                code.parse::<i32>().is_ok_and(|c| c & 0xff == 5)
            } else {
                // PostgreSQL: a connection exception (class 08), the server shutting down or
                // starting up (57P0x), or too many connections (53300).
                code.starts_with("08") || code.starts_with("57P0") || code == "53300"
            }
        }
        _ => false,
    }
}
