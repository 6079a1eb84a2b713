//! The framework's own refusals (a body that is not JSON or not of the expected shape, one
//! too large, a malformed query) come as plain text; they are given the API's error shape so
//! that a client reads every error the same way.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// Most bytes of a refusal's text read (they are one line); a longer one is replaced by
/// the status's name.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// `response` unchanged unless it is a plain-text client error; that one as an [`ApiError`].
pub(crate) async fn api_shaped(response: Response) -> Response {
    let status = response.status();
    if !status.is_client_error() || !is_plain_text(response.headers()) {
        return response;
    }
    let message = match axum::body::to_bytes(response.into_body(), MAX_TEXT_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => status.canonical_reason().unwrap_or("refused").to_owned(),
    };
    ApiError::new(status, code(status), message).into_response()
}

fn is_plain_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"))
}

fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        _ => "bad_request",
    }
}
