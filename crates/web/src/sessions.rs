//! Staff sessions in Casework's own database: tower-sessions' `SessionStore` over the app's
//! store. (The released sqlx session store is built on another sqlx than ours.)
//!
//! A session is stored under a hash of its id, so that the table gives nobody a session; and
//! with the id of its member of staff, so that all of someone's sessions can be ended at once.
//!
//! Expiry is on the system clock, not the app's: tower-sessions sets a session's expiry from
//! the system clock, and an app whose clock a test has moved must not find every session
//! expired.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use axum_login::tower_sessions::session::{Id, Record};
use axum_login::tower_sessions::session_store::{self, SessionStore};
use casework_app::store::{SessionRecord, StoreError};
use casework_app::{App, sha256_hex};
use serde_json::Value;
use time::OffsetDateTime;

/// Where a signed-in session keeps its member of staff's id, for the store to file it under.
pub(crate) const STAFF_ID_KEY: &str = "casework.staff_id";

#[derive(Clone)]
pub(crate) struct DbSessions {
    app: App,
}

impl DbSessions {
    pub(crate) fn new(app: App) -> Self {
        Self { app }
    }
}

impl fmt::Debug for DbSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbSessions")
    }
}

#[async_trait]
impl SessionStore for DbSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let store = self.app.store();
        // A new session (a sign-in, mostly) is when expired ones are swept away, by whichever
        // replica made it: no timer needed, and the table stays the size of the signed-in staff.
        store
            .delete_expired_sessions(OffsetDateTime::now_utc())
            .await
            .map_err(backend)?;
        // Ids are 128 random bits, so this goes round once; but a session must never be
        // handed someone else's.
        while !store
            .insert_session(&to_row(record)?)
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.app
            .store()
            .update_session(&to_row(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = self
            .app
            .store()
            .session(&key(id), OffsetDateTime::now_utc())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data: HashMap<String, Value> = serde_json::from_value(row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: row.expires_at,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.app
            .store()
            .delete_session(&key(id))
            .await
            .map_err(backend)
    }
}

/// What a session is stored under: a hash of its id.
fn key(id: &Id) -> String {
    sha256_hex(id.to_string().as_bytes())
}

fn to_row(record: &Record) -> session_store::Result<SessionRecord> {
    let data = serde_json::to_value(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok(SessionRecord {
        id: key(&record.id),
        staff_id: record.data.get(STAFF_ID_KEY).and_then(Value::as_i64),
        data,
        expires_at: record.expiry_date,
    })
}

fn backend(error: StoreError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}
