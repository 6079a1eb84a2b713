//! Bearer tokens: 32 random bytes, handed out once and kept only as a SHA-256 hash.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::ApiError;

/// How long a token is valid.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_hours(24 * 30);

/// A new token and the hash to store.
pub(crate) fn new_token() -> Result<(String, String), ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no random token: {e}")))?;
    let token = format!(
        "opsml_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash_token(&token);
    Ok((token, hash))
}

/// The stored form of a token.
pub(crate) fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}
