use thiserror::Error;

/// Errors raised while validating plain values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TypesError {
    /// A metric, parameter or card name was empty.
    #[error("{kind} name must not be empty")]
    EmptyName { kind: &'static str },
    /// A name was longer than the limit.
    #[error("{kind} name {name:?} is {len} characters long; the limit is {limit}")]
    NameTooLong {
        kind: &'static str,
        name: String,
        len: usize,
        limit: usize,
    },
    /// A name contained a control character (newline, NUL, ...).
    #[error("{kind} name {name:?} contains a control character")]
    ControlCharacter { kind: &'static str, name: String },
    /// A name held a character that reorders or hides text (`exp\u{202e}txt.exe` shows as
    /// `expexe.txt`), so that it could pass for another name.
    #[error("{kind} name {name:?} contains the invisible or reordering character {character:?}")]
    DeceptiveCharacter {
        kind: &'static str,
        name: String,
        character: char,
    },
    /// A name of whitespace or invisible characters alone.
    #[error("{kind} name {name:?} has no visible character")]
    InvisibleName { kind: &'static str, name: String },
    /// A text parameter value contained a NUL character.
    #[error("parameter {name:?}: text values must not contain NUL (\\0) characters")]
    NulInValue { name: String },
    /// A status string that is not one of the known statuses.
    #[error("unknown status {0:?}; expected one of running, completed, failed, killed")]
    UnknownStatus(String),
    /// A registry type string that is not known.
    #[error("unknown registry type {0:?}; expected \"experiment\"")]
    UnknownRegistryType(String),
    /// An artifact path that cannot be stored.
    #[error("invalid artifact path {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },
    /// A description longer than the limit.
    #[error("a description is {len} characters long; the limit is {limit}")]
    DescriptionTooLong { len: usize, limit: usize },
    /// A description holding a control character other than a newline or a tab, or a
    /// character that reorders or hides text.
    #[error("a description must not contain the character {character:?}")]
    DescriptionCharacter { character: char },
    /// More evaluation metrics on one run than the limit.
    #[error("a run keeps at most {limit} evaluation metrics; this would make {count}")]
    TooManyEvalMetrics { count: usize, limit: usize },
    /// A version string that is not valid semver.
    #[error("invalid version {value:?}: {reason}")]
    InvalidVersion { value: String, reason: String },
}
