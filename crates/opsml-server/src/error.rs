//! Errors as HTTP responses: a status and `{"error": {"code": ..., "message": ...}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use opsml_registry::{RegistryError, StorageError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable name of the error.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

/// A storage's failure answers as the registry's does.
impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        RegistryError::from(error).into()
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Store(error) => error.into(),
            // An object the records point at but the storage lacks: there is nothing to send.
            RegistryError::Storage(StorageError::Io { ref source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::error!(message = %error, "a recorded object is missing from the storage");
                Self::not_found("the object is not in the storage")
            }
            other => {
                tracing::error!(message = %other, "request failed");
                Self::internal("the request failed inside the server; its log has the details")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if let Some(refused) = refused_value(&error) {
            return refused;
        }
        let message = error.to_string();
        match error {
            StoreError::ExperimentNotFound(_) | StoreError::CardNotFound { .. } => {
                Self::not_found(message)
            }
            StoreError::Invalid(_) => Self::bad_request(message),
            StoreError::BatchRefused(_) => {
                Self::new(StatusCode::CONFLICT, "batch_refused", message)
            }
            StoreError::VersionContention { .. } => {
                Self::new(StatusCode::CONFLICT, "version_contention", message)
            }
            // What failed inside is for the server's log: its message names hosts, databases,
            // buckets and paths that clients have no business knowing.
            StoreError::Sqlite { .. }
            | StoreError::Postgres { .. }
            | StoreError::StoreMoved { .. } => {
                let message = loggable(&error);
                tracing::error!(%message, "store failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the store failed; the server's log has the details",
                )
            }
            _ => {
                let message = loggable(&error);
                tracing::error!(%message, "request failed");
                Self::internal("the request failed inside the server; its log has the details")
            }
        }
    }
}

impl From<opsml_read::ReadError> for ApiError {
    fn from(error: opsml_read::ReadError) -> Self {
        match error {
            opsml_read::ReadError::Store(error) => error.into(),
            invalid @ opsml_read::ReadError::InvalidOption { .. } => {
                Self::bad_request(invalid.to_string())
            }
            other => {
                tracing::error!(message = %other, "reading failed");
                Self::internal("the request failed inside the server; its log has the details")
            }
        }
    }
}

/// PostgreSQL's code for a character its text cannot hold (a NUL).
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

/// The 400 for a value of the client's that the store refused to keep (a NUL character that
/// no check before caught), or `None` for any other failure.
fn refused_value(error: &StoreError) -> Option<ApiError> {
    let StoreError::Postgres { source, .. } = error else {
        return None;
    };
    let db = source.as_db_error()?;
    (db.code().code() == CHARACTER_NOT_IN_REPERTOIRE).then(|| {
        ApiError::bad_request(format!(
            "a value of the request holds a character the store cannot keep: {}",
            db.message()
        ))
    })
}

/// What a log line may say of a store failure: the database's own message and code, never
/// the statement, which can be as long as the request made it and holds its values.
fn loggable(error: &StoreError) -> String {
    match error {
        StoreError::Sqlite { path, source } => {
            format!("sqlite store {}: {}", path.display(), sqlite_cause(source))
        }
        StoreError::Postgres { location, source } => match source.as_db_error() {
            Some(db) => format!(
                "postgres store {location}: {} {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            ),
            None => error.to_string(),
        },
        _ => error.to_string(),
    }
}

/// SQLite's message and extended code; a statement that failed to compile is left out.
fn sqlite_cause(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => format!(
            "{msg} (code {}, at byte {offset} of the statement)",
            error.extended_code
        ),
        rusqlite::Error::SqliteFailure(code, Some(msg)) => {
            format!("{msg} (code {})", code.extended_code)
        }
        other => other.to_string(),
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
struct ErrorDetail {
    /// Stable, machine-readable name of the error (`not_found`, `uid_taken`, ...).
    code: &'static str,
    /// What went wrong, naming the value at fault.
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What `work` logs, as text.
    fn logged_by(work: impl FnOnce()) -> String {
        let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&lines);
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::with_default(subscriber, work);
        let text = String::from_utf8_lossy(&lines.lock().unwrap()).into_owned();
        text
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn store_failures_are_logged_without_their_statement() {
        let statement = "SELECT uid FROM experiments WHERE name = 'secret value'";
        let error = StoreError::Sqlite {
            path: "/tmp/opsml.db".into(),
            source: rusqlite::Error::SqlInputError {
                error: rusqlite::ffi::Error::new(1),
                msg: "Expression tree is too large (maximum depth 1000)".into(),
                sql: statement.into(),
                offset: 7,
            },
        };
        assert!(error.to_string().contains("secret value"), "the premise");
        let mut answer = None;
        let log = logged_by(|| answer = Some(ApiError::from(error)));
        assert!(log.contains("Expression tree is too large"), "{log}");
        assert!(!log.contains("SELECT") && !log.contains("secret"), "{log}");
        let answer = answer.unwrap();
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!answer.message.contains("secret"), "{}", answer.message);
    }
}
