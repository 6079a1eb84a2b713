//! Users of an opsml server: password hashes, what each may do per space, and access
//! tokens. Kept by the same databases as the experiments; hashing happens in the server.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::Result;

/// A user as stored: the password only as a hash (PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    pub password_hash: String,
    /// May manage users and read and write every space.
    pub admin: bool,
}

/// What a user may do in a space. Writing includes reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

/// Where users, grants and tokens are kept.
pub trait AccountStore: Send + Sync + fmt::Debug {
    /// The user named `username`.
    fn user(&self, username: &str) -> Result<Option<UserRecord>>;

    /// Creates the user, or replaces its password hash and admin flag.
    fn put_user(&self, user: &UserRecord) -> Result<()>;

    /// Creates the user unless one of that name exists; `true` if it was created.
    fn insert_user(&self, user: &UserRecord) -> Result<bool>;

    /// How many users there are.
    fn user_count(&self) -> Result<u64>;

    /// Gives `username` `access` to `space`, replacing what it had there.
    fn grant(&self, username: &str, space: &str, access: Access) -> Result<()>;

    /// The spaces `username` may use, with what it may do there.
    fn grants(&self, username: &str) -> Result<Vec<(String, Access)>>;

    /// Records a token (by its hash) of `username`, valid until `expires_at`.
    fn put_token(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> Result<()>;

    /// The user of an unexpired token, by the token's hash.
    fn token_user(&self, token_hash: &str) -> Result<Option<String>>;
}
