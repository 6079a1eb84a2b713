//! Password hashes: argon2id with a random salt, kept as PHC strings.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::ApiError;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The PHC string of `password` under a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "passwords must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    // A login could not give it: logins with one are refused before they are checked.
    if password.contains('\0') {
        return Err(ApiError::bad_request(
            "a password cannot hold a NUL character",
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(format!("no random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| ApiError::internal(format!("encoding a salt failed: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(format!("hashing a password failed: {e}")))
}

/// Checks `password` against the hash of `user` if there is such a user, else against a hash
/// of nothing at the same cost: the time an answer takes does not tell whether a name exists.
pub fn verify_login(password: &str, stored: Option<&str>) -> bool {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    match stored {
        Some(stored) => verify_password(password, stored),
        None => {
            let decoy = DECOY.get_or_init(|| hash_password("no such user's password").ok());
            if let Some(decoy) = decoy {
                verify_password(password, decoy);
            }
            false
        }
    }
}

/// Whether `password` matches the stored PHC string (a malformed one matches nothing).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_their_password_only_and_are_salted() {
        let first = hash_password("correct horse").unwrap();
        let second = hash_password("correct horse").unwrap();
        assert_ne!(first, second, "salted");
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert!(verify_password("correct horse", &first));
        assert!(!verify_password("correct horsE", &first));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn a_login_matches_only_a_known_user_with_the_right_password() {
        let stored = hash_password("correct horse").unwrap();
        assert!(verify_login("correct horse", Some(&stored)));
        assert!(!verify_login("correct horsE", Some(&stored)));
        assert!(!verify_login("correct horse", None));
        assert!(
            !verify_login("no such user's password", None),
            "the decoy opens nothing"
        );
    }

    #[test]
    fn short_passwords_and_ones_with_nul_are_refused() {
        let err = hash_password("short").unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains('8'), "{}", err.message);
        let err = hash_password("long enough\0").unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("NUL"), "{}", err.message);
    }
}
