//! Users of an opsml server: password hashes, what each may do per space, and access
//! tokens. Kept by the same databases as the experiments; hashing happens in the server.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::Result;

/// A user as stored: the password only as a hash (PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    pub password_hash: String,
    /// May manage users and read and write every space.
    pub admin: bool,
    /// May not log in, and its tokens are not honoured; its grants are kept.
    pub disabled: bool,
}

/// A user as listed to admins: no password hash, no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub username: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// Whose a token is, and until when it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub username: String,
    pub expires_at: DateTime<Utc>,
}

/// What disabling or deleting a user came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    /// Done, or already so.
    Done,
    /// There is no user of that name.
    NoSuchUser,
    /// Refused: the user is the last enabled admin, and without one nobody could manage
    /// users any more.
    LastAdmin,
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

    /// Every user, by name.
    fn users(&self) -> Result<Vec<UserSummary>>;

    /// Creates the user, or replaces its password hash, admin and disabled flags.
    fn put_user(&self, user: &UserRecord) -> Result<()>;

    /// Creates the user unless one of that name exists; `true` if it was created.
    fn insert_user(&self, user: &UserRecord) -> Result<bool>;

    /// How many users there are.
    fn user_count(&self) -> Result<u64>;

    /// Disables or enables `username`. Disabling also removes its tokens, so that enabling
    /// it again does not bring back a token that leaked meanwhile; the last enabled admin
    /// is never disabled.
    fn set_disabled(&self, username: &str, disabled: bool) -> Result<UserChange>;

    /// Deletes `username` with its grants and tokens, unless it is the last enabled admin.
    fn delete_user(&self, username: &str) -> Result<UserChange>;

    /// Gives `username` `access` to `space`, replacing what it had there.
    fn grant(&self, username: &str, space: &str, access: Access) -> Result<()>;

    /// The spaces `username` may use, with what it may do there.
    fn grants(&self, username: &str) -> Result<Vec<(String, Access)>>;

    /// Takes away what `username` may do in `space`; `false` if it had no grant there.
    fn revoke_grant(&self, username: &str, space: &str) -> Result<bool>;

    /// Records a token (by its hash) of `username`, valid until `expires_at`.
    fn put_token(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> Result<()>;

    /// The owner of a token, by the token's hash, if the token is unexpired and its user
    /// enabled.
    fn token(&self, token_hash: &str) -> Result<Option<TokenOwner>>;

    /// Removes one token, by its hash; `false` if there was none.
    fn revoke_token(&self, token_hash: &str) -> Result<bool>;

    /// Removes every token of `username`; how many there were.
    fn revoke_tokens(&self, username: &str) -> Result<u64>;
}
