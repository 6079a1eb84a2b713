//! Uploads that skip the server: where the storage signs URLs (S3), a client asks here for a
//! signed `PUT` of a whole object, or starts a multipart upload, asks for its parts' URLs and
//! completes it, and sends the bytes (always ciphertext) straight to the storage. Every step
//! needs write access to the experiment's space; a storage that signs nothing answers `null`
//! and the client streams through `PUT .../objects/{id}` instead.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use opsml_api::wire::{
    AbortMultipart, CompleteMultipart, MultipartUpload, PartUrls, PartUrlsRequest, UploadUrl,
};
use opsml_registry::{Access, SignedUploads, StorageError, MAX_UPLOAD_PARTS};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::artifacts::object_key;
use super::experiments::authorized_card;
use super::openapi::{ObjectPath, Refusals};
use crate::{ApiError, AppState, Principal, MAX_BODY_BYTES};

/// How long a signed upload URL stays valid.
const UPLOAD_URL_LIFETIME: std::time::Duration = std::time::Duration::from_mins(15);

/// Most part URLs one request signs.
pub(super) const MAX_PART_URLS: usize = 64;

/// Longest upload id or `ETag` taken (S3's are far shorter).
const MAX_TOKEN_BYTES: usize = 1024;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_url))
        .routes(routes!(create))
        .routes(routes!(part_urls))
        // Up to MAX_UPLOAD_PARTS ETags.
        .routes(routes!(complete).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .routes(routes!(abort))
}

/// Runs `work` on the storage's signed uploads for object `id` of `uid`, once the principal
/// may write there; `None` for a storage that signs nothing.
async fn with_uploads<T, F>(
    state: &AppState,
    principal: Principal,
    uid: String,
    id: &str,
    work: F,
) -> Result<Option<T>, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn SignedUploads, &str) -> Result<T, ApiError> + Send + 'static,
{
    let key = object_key(&uid, id)?;
    let storage = std::sync::Arc::clone(&state.storage);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            storage
                .signed_uploads()
                .map(|uploads| work(uploads, &key))
                .transpose()
        })
        .await
}

/// A token of the client's (an upload id or an `ETag`) checked before it reaches the storage.
fn check_token(what: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::bad_request(format!(
            "{what} of {} bytes is not one the storage gives (1 to {MAX_TOKEN_BYTES} bytes)",
            value.len()
        )));
    }
    if value.is_empty() || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{what} {value:?} is not one the storage gives (1 to {MAX_TOKEN_BYTES} bytes, \
             no control characters)"
        )));
    }
    Ok(())
}

/// A missing upload is the client's to fix: it names one the storage does not have.
fn upload_error(upload_id: &str, error: StorageError) -> ApiError {
    match &error {
        StorageError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ApiError::not_found(format!("no upload {upload_id:?} of this object"))
        }
        _ => error.into(),
    }
}

fn no_signed_uploads() -> ApiError {
    ApiError::bad_request(
        "the server's storage signs no uploads; PUT the object to .../objects/{id}",
    )
}

/// A URL that PUTs the whole object (with a Content-Length) straight into the storage, valid 15
/// minutes, or {"url": null} where the storage cannot sign one (then PUT .../objects/{id}).
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/objects/{id}/upload-url",
    params(ObjectPath),
    responses(
        (status = 200, description = "OK", body = UploadUrl),
        Refusals,
    ),
)]
async fn upload_url(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
) -> Result<Json<UploadUrl>, ApiError> {
    let url = with_uploads(&state, principal, uid, &id, |uploads, key| {
        Ok(uploads.upload_url(key, UPLOAD_URL_LIFETIME)?)
    })
    .await?;
    Ok(Json(UploadUrl { url }))
}

/// Starts a multipart upload whose parts go straight to the storage; {"upload_id": null} where the
/// storage cannot sign part URLs (then PUT .../objects/{id}). Nothing is visible until it is
/// completed.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/objects/{id}/multipart",
    operation_id = "start_multipart_upload",
    params(ObjectPath),
    responses(
        (status = 200, description = "OK", body = MultipartUpload),
        Refusals,
    ),
)]
async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
) -> Result<Json<MultipartUpload>, ApiError> {
    let upload_id = with_uploads(&state, principal, uid, &id, |uploads, key| {
        Ok(uploads.create_multipart(key)?)
    })
    .await?;
    Ok(Json(MultipartUpload { upload_id }))
}

/// Signed URLs (valid 15 minutes) that PUT parts of an upload, 1 to 64 at a time, parts numbered 1
/// to 10,000. The answer of each PUT carries the part's ETag.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/objects/{id}/multipart/part-urls",
    params(ObjectPath),
    request_body = PartUrlsRequest,
    responses(
        (status = 200, description = "OK", body = PartUrls),
        Refusals,
    ),
)]
async fn part_urls(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
    Json(request): Json<PartUrlsRequest>,
) -> Result<Json<PartUrls>, ApiError> {
    check_token("upload id", &request.upload_id)?;
    if request.parts.is_empty() || request.parts.len() > MAX_PART_URLS {
        return Err(ApiError::bad_request(format!(
            "ask for 1 to {MAX_PART_URLS} parts at a time, not {}",
            request.parts.len()
        )));
    }
    if let Some(part) = request
        .parts
        .iter()
        .find(|&&p| p == 0 || p > MAX_UPLOAD_PARTS)
    {
        return Err(ApiError::bad_request(format!(
            "part {part} is out of range: parts are numbered 1 to {MAX_UPLOAD_PARTS}"
        )));
    }
    let urls = with_uploads(&state, principal, uid, &id, move |uploads, key| {
        Ok(uploads.part_urls(key, &request.upload_id, &request.parts, UPLOAD_URL_LIFETIME)?)
    })
    .await?
    .ok_or_else(no_signed_uploads)?;
    Ok(Json(PartUrls { urls }))
}

/// Joins the parts whose PUTs answered these ETags, in part order, into the object. 404 for an
/// upload the storage does not have.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/objects/{id}/multipart/complete",
    params(ObjectPath),
    request_body = CompleteMultipart,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn complete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
    Json(request): Json<CompleteMultipart>,
) -> Result<StatusCode, ApiError> {
    check_token("upload id", &request.upload_id)?;
    if request.etags.is_empty() || request.etags.len() > MAX_UPLOAD_PARTS as usize {
        return Err(ApiError::bad_request(format!(
            "an upload has 1 to {MAX_UPLOAD_PARTS} parts, not {}",
            request.etags.len()
        )));
    }
    for etag in &request.etags {
        check_token("ETag", etag)?;
    }
    with_uploads(&state, principal, uid, &id, move |uploads, key| {
        uploads
            .complete_multipart(key, &request.upload_id, request.etags)
            .map_err(|e| upload_error(&request.upload_id, e))
    })
    .await?
    .ok_or_else(no_signed_uploads)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Drops an upload and the parts sent so far.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/objects/{id}/multipart/abort",
    params(ObjectPath),
    request_body = AbortMultipart,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn abort(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
    Json(request): Json<AbortMultipart>,
) -> Result<StatusCode, ApiError> {
    check_token("upload id", &request.upload_id)?;
    with_uploads(&state, principal, uid, &id, move |uploads, key| {
        uploads
            .abort_multipart(key, &request.upload_id)
            .map_err(|e| upload_error(&request.upload_id, e))
    })
    .await?
    .ok_or_else(no_signed_uploads)?;
    Ok(StatusCode::NO_CONTENT)
}
