//! Errors as HTTP responses: a status and `{"error": {"code": ..., "message": ...}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use opsml_registry::RegistryError;
use serde_json::json;

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

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        let message = error.to_string();
        match error {
            RegistryError::ExperimentNotFound(_) | RegistryError::CardNotFound { .. } => {
                Self::not_found(message)
            }
            RegistryError::Invalid(_) => Self::bad_request(message),
            // An object the records point at but the storage lacks: there is nothing to send.
            RegistryError::Storage { ref source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::error!(%message, "a recorded object is missing from the storage");
                Self::not_found("the object is not in the storage")
            }
            RegistryError::BatchRefused(_) => {
                Self::new(StatusCode::CONFLICT, "batch_refused", message)
            }
            RegistryError::VersionContention { .. } => {
                Self::new(StatusCode::CONFLICT, "version_contention", message)
            }
            // What failed inside is for the server's log: its message names hosts, databases,
            // buckets and paths that clients have no business knowing.
            RegistryError::Sqlite { .. }
            | RegistryError::Postgres { .. }
            | RegistryError::StoreMoved { .. } => {
                tracing::error!(%message, "store failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the store failed; the server's log has the details",
                )
            }
            _ => {
                tracing::error!(%message, "request failed");
                Self::internal("the request failed inside the server; its log has the details")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
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
