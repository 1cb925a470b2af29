//! Whether this process can serve requests, for the load balancer's readiness probe.

use crate::App;

/// Ready, or the reason why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    NotReady(String),
}

impl App {
    /// Ready when services are loaded, the database answers and its schema has every migration
    /// this build carries. Another replica (or `casework migrate`) may be migrating the
    /// database, so a schema behind is a reason to wait, not to stop.
    pub async fn readiness(&self) -> Readiness {
        if self.services.is_empty() {
            return Readiness::NotReady("no services are loaded".into());
        }
        let status = match self.store.schema_status().await {
            Ok(status) => status,
            Err(error) => {
                tracing::warn!(%error, "not ready: the database does not answer");
                return Readiness::NotReady("the database does not answer".into());
            }
        };
        if let Some(version) = status.failed {
            return Readiness::NotReady(format!("migration {version} failed part way"));
        }
        if !status.changed.is_empty() {
            return Readiness::NotReady(format!(
                "applied migrations differ from this release's: {}",
                versions(&status.changed)
            ));
        }
        if !status.pending.is_empty() {
            return Readiness::NotReady(format!(
                "the database schema is not up to date: migrations {} are not applied",
                versions(&status.pending)
            ));
        }
        Readiness::Ready
    }

    /// How many jobs wait to run, due or not.
    pub async fn pending_job_count(&self) -> Result<i64, crate::AppError> {
        Ok(self.store.pending_job_count().await?)
    }

    /// How the database connections are used now.
    pub fn pool_use(&self) -> casework_store::PoolUse {
        self.store.pool_use()
    }
}

fn versions(versions: &[i64]) -> String {
    let texts: Vec<String> = versions.iter().map(ToString::to_string).collect();
    texts.join(", ")
}
