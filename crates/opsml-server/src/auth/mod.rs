//! Who is asking, and what they may do: users with argon2 password hashes, bearer tokens
//! (stored as SHA-256 hashes), and read or write access per space. Admins may do anything.

mod middleware;
mod password;
mod principal;
mod session;
mod throttle;
mod token;

pub(crate) use middleware::{require_token, SessionToken, TokenHash};
pub use password::{hash_password, verify_login, verify_password, MIN_PASSWORD_CHARS};
pub use principal::Principal;
pub(crate) use session::{csrf_token, session_cookie_header, LaunchToken};
pub(crate) use throttle::LoginThrottle;
pub(crate) use token::{hash_token, new_token, TOKEN_LIFETIME};

use opsml_registry::{AccountStore, UserRecord};

use crate::ApiError;

/// Creates the first admin from `username` and `password` unless a user of that name exists;
/// `true` if it was created. A server refuses to start with no user at all, so that it never
/// runs with a default password.
pub fn bootstrap_admin(
    accounts: &dyn AccountStore,
    username: &str,
    password: &str,
) -> Result<bool, ApiError> {
    opsml_types::validate_name("user", username)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let user = UserRecord {
        username: username.to_owned(),
        password_hash: hash_password(password)?,
        admin: true,
        disabled: false,
    };
    Ok(accounts.insert_user(&user)?)
}
