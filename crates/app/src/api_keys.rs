//! API keys for other systems. A key is shown once when it is made; only its SHA-256 hash is
//! stored. A key is 32 random bytes, so a fast hash is enough: there is nothing to guess.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use casework_domain::case::Actor;
use casework_domain::service::Role;
use casework_domain::service::answers::FieldError;
use casework_store::{ApiKey, KeyScope};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{App, AppError, Caller};

const KEY_PREFIX: &str = "cw_";
/// How much of a key is kept in clear to tell keys apart in lists and logs.
const SHOWN_CHARS: usize = 10;

/// A key just made: the secret is here and nowhere else.
#[derive(Debug)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// What a key presented for one scope stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// Unknown or revoked.
    Unknown,
    /// A working key, made for other calls than these.
    OutOfScope,
    Allowed(Caller),
}

/// The hex SHA-256 of some bytes: how keys, and idempotent requests, are recognised.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl App {
    /// A key for the JSON API, as keys were before they had scopes.
    pub async fn create_api_key(&self, name: &str, role: Role) -> Result<NewApiKey, AppError> {
        self.create_scoped_api_key(name, role, &[KeyScope::Api])
            .await
    }

    /// A key that may call what `scopes` name: the JSON API, Open311, or both.
    pub async fn create_scoped_api_key(
        &self,
        name: &str,
        role: Role,
        scopes: &[KeyScope],
    ) -> Result<NewApiKey, AppError> {
        if scopes.is_empty() {
            return Err(AppError::Invalid(vec![FieldError::new(
                "scope",
                "Give the key a scope: api, open311 or both",
            )]));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let key = self
            .store
            .insert_api_key(
                name.trim(),
                role,
                scopes,
                &secret[..SHOWN_CHARS],
                &sha256_hex(secret.as_bytes()),
                self.now(),
            )
            .await?;
        Ok(NewApiKey { key, secret })
    }

    /// What a bearer key stands for on the JSON API.
    pub async fn authenticate_api_key(&self, secret: &str) -> Result<KeyCheck, AppError> {
        self.authenticate_key(secret, KeyScope::Api).await
    }

    /// What a key stands for on the calls of `scope`: the caller, if it is known, not revoked
    /// and made for them.
    pub async fn authenticate_key(
        &self,
        secret: &str,
        scope: KeyScope,
    ) -> Result<KeyCheck, AppError> {
        if !secret.starts_with(KEY_PREFIX) {
            return Ok(KeyCheck::Unknown);
        }
        let key = self
            .store
            .api_key_by_hash(&sha256_hex(secret.as_bytes()))
            .await?;
        Ok(match key {
            None => KeyCheck::Unknown,
            Some(key) if !key.scopes.contains(&scope) => KeyCheck::OutOfScope,
            Some(key) => KeyCheck::Allowed(Caller {
                actor: Actor::ApiClient(key.name),
                role: key.role,
                api_key_id: Some(key.id),
                // Another system acts for the whole council.
                teams: None,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::sha256_hex;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
