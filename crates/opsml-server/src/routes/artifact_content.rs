//! `GET /experiments/{uid}/artifacts/content?path=…[&download=true]`: an artifact's plain
//! bytes, for the UI of `opsml ui` to show images and text and to download any artifact
//! decrypted. Only `opsml ui` holds the master key; a server never does, and answers with
//! how to download and decrypt instead.
//!
//! The bytes are decrypted into a temporary file and sent only once their SHA-256 matches
//! the record, so a tampered object is refused rather than half shown. A page shown from
//! them runs nothing: only media types from a short list are sent as themselves, and every
//! answer carries a sandboxing Content-Security-Policy.

use std::fs::File;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use opsml_registry::Access;
use opsml_types::{normalize_artifact_path, ArtifactRecord};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::artifacts::streamed;
use super::experiments::authorized_card;
use super::openapi::{BadRequest, Conflict, ExperimentPath, NotFound, Unauthorized};
use crate::{ApiError, AppState, Principal};

/// Media types a browser may show as themselves: pictures (SVG too: in an `<img>` it runs
/// nothing, and opened on its own the sandbox below stops its scripts) and plain text; no
/// HTML, no PDF. Anything else is sent as `application/octet-stream`.
const SHOWN_AS_IS: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
    "text/plain",
    "text/csv",
    "text/markdown",
    "application/json",
];

/// Artifacts being decrypted at once: each decryption takes a core and writes the artifact's
/// size to temporary disk, so clicks on many large downloads wait their turn rather than
/// decrypt (and fill the disk) all together.
static DECRYPTIONS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A document made of these bytes gets no scripts, no plugins and an origin of its own.
const SANDBOX: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(content))
}

#[derive(Debug, Deserialize)]
struct ContentQuery {
    path: String,
    /// Sent as a file to save rather than shown.
    #[serde(default)]
    download: bool,
}

/// An artifact's plain bytes, decrypted and checked against its SHA-256, for `opsml ui` to show
/// pictures and text and to download artifacts.
///
/// Needs read access to the experiment's space. Only `opsml ui`, which holds the master key,
/// answers with the bytes; a server never holds the key and answers 409 with the command that
/// downloads and decrypts. Pictures (PNG, JPEG, GIF, WebP, SVG) and plain text, CSV, Markdown and
/// JSON are sent as their own media type, anything else as application/octet-stream; every answer
/// carries a sandboxing Content-Security-Policy.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/artifacts/content",
    params(
        ExperimentPath,
        ("path" = String, Query, description = "The artifact's path."),
        ("download" = Option<bool>, Query, description = "true: sent as a file to save (Content-Disposition: attachment) rather than shown."),
    ),
    responses(
        (status = 200, description = "The artifact's bytes.", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ),
)]
async fn content(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Query(query): Query<ContentQuery>,
) -> Result<Response, ApiError> {
    let artifacts = state.artifacts.clone();
    let _turn = DECRYPTIONS
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the server is stopping"))?;
    let (record, file) = state
        .with_store(move |store| {
            let card = authorized_card(store, &principal, &uid, Access::Read)?;
            let path = normalize_artifact_path(&query.path).map_err(|e| {
                ApiError::bad_request(format!("artifact path {:?}: {e}", query.path))
            })?;
            let record = store
                .list_artifacts(&card.uid, Some(&path))?
                .into_iter()
                .find(|record| record.path == path)
                .ok_or_else(|| {
                    ApiError::not_found(format!("experiment {uid} has no artifact {path:?}"))
                })?;
            let Some(artifacts) = artifacts else {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "encrypted_artifact",
                    format!(
                        "artifacts are encrypted and this server does not hold their key: \
                         download and decrypt them with `opsml experiments download {uid}`"
                    ),
                ));
            };
            let key = artifacts.stored_data_key(&card.uid)?;
            let folder = tempfile::tempdir()
                .map_err(|e| ApiError::internal(format!("no temporary folder: {e}")))?;
            let plain = folder.path().join("artifact");
            artifacts.download(&key, &record, &plain)?;
            // Open before the folder goes: the open file stays readable until sent.
            let file = File::open(&plain)
                .map_err(|e| ApiError::internal(format!("reading {path:?} back: {e}")))?;
            Ok((record, file))
        })
        .await?;
    Ok(answer(&record, file, query.download))
}

/// The response carrying `file`, the plain bytes of `record`.
fn answer(record: &ArtifactRecord, file: File, download: bool) -> Response {
    let disposition = format!(
        "{}; filename=\"{}\"",
        if download { "attachment" } else { "inline" },
        file_name(&record.path)
    );
    let mut response = streamed(file).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(shown_type(&record.media_type)),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(record.size));
    // `file_name` leaves only characters that are valid in a header.
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(SANDBOX));
    // Plain bytes of an encrypted artifact: kept in no cache, the browser's included.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `media_type` if a browser may show it as itself, else `application/octet-stream`.
fn shown_type(media_type: &str) -> &'static str {
    SHOWN_AS_IS
        .iter()
        .find(|known| **known == media_type)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// The last part of an artifact's path, with anything outside letters, digits, `.`, `-`
/// and `_` replaced, so that it is safe in a header and as a file name.
fn file_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.trim_matches('.').is_empty() {
        "artifact".to_owned()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_name("plots/loss curve.png"), "loss_curve.png");
        assert_eq!(file_name("a\"b\r\nc.txt"), "a_b__c.txt");
        assert_eq!(file_name(".."), "artifact");
        assert_eq!(file_name("model.pt"), "model.pt");
    }

    #[test]
    fn only_listed_media_types_are_sent_as_themselves() {
        assert_eq!(shown_type("image/png"), "image/png");
        assert_eq!(shown_type("text/html"), "application/octet-stream");
        assert_eq!(shown_type("application/pdf"), "application/octet-stream");
    }
}
