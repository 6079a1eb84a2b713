//! An experiment's artifacts: its wrapped data key, the records of its artifacts, and the
//! objects themselves, streamed both ways. The server only ever sees ciphertext and keys
//! wrapped by a master key it does not have: encryption happens in the client.
//!
//! Objects are addressed as `/experiments/{uid}/objects/{id}`, `id` a UUID, so a request can
//! only reach objects of an experiment the user may use, and no path can leave its prefix.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::Engine;
use futures_util::{StreamExt, TryStreamExt};
use opsml_api::wire::{DownloadUrl, WrappedKeyBody};
use opsml_registry::{experiment_prefix, Access, StreamReader};
use opsml_types::{normalize_artifact_path, ArtifactRecord};
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::experiments::{authorized_card, uuid_like};
use super::openapi::{ExperimentPath, ObjectPath, Refusals};
use crate::input::{check_time, no_nul};
use crate::{ApiError, AppState, Principal, MAX_BODY_BYTES};

/// Bytes per chunk of a download.
const CHUNK_BYTES: usize = 1 << 20;

/// How long a signed download URL stays valid.
const DOWNLOAD_URL_LIFETIME: std::time::Duration = std::time::Duration::from_mins(15);

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wrapped_key, insert_key))
        .routes(routes!(list_records, put_records).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .routes(routes!(delete_objects))
        .routes(routes!(download_url))
        .routes(routes!(upload, download, delete_object).layer(DefaultBodyLimit::disable()))
}

fn base64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The experiment's data key wrapped by the team's master key, or null. The server never sees the
/// master key.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/key",
    params(ExperimentPath),
    responses(
        (status = 200, description = "OK", body = Option<WrappedKeyBody>),
        Refusals,
    ),
)]
async fn wrapped_key(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<Option<WrappedKeyBody>>, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.wrapped_data_key(&uid)?.map(|wrapped| WrappedKeyBody {
                wrapped: base64().encode(wrapped),
            }))
        })
        .await
        .map(Json)
}

/// Stores a wrapped data key unless one is stored; answers with the stored one.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/key",
    params(ExperimentPath),
    request_body = WrappedKeyBody,
    responses(
        (status = 200, description = "OK", body = WrappedKeyBody),
        Refusals,
    ),
)]
async fn insert_key(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(body): Json<WrappedKeyBody>,
) -> Result<Json<WrappedKeyBody>, ApiError> {
    let wrapped = base64()
        .decode(&body.wrapped)
        .map_err(|e| ApiError::bad_request(format!("wrapped key is not base64: {e}")))?;
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            let stored = store.insert_wrapped_data_key(&uid, &wrapped)?;
            Ok(WrappedKeyBody {
                wrapped: base64().encode(stored),
            })
        })
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only the artifact at this path or under it.
    prefix: Option<String>,
}

/// Artifact records, all or those at or under a path.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/artifacts",
    params(
        ExperimentPath,
        ("prefix" = Option<String>, Query, description = "Only the artifact at this path or under it."),
    ),
    responses(
        (status = 200, description = "OK", body = Vec<ArtifactRecord>),
        Refusals,
    ),
)]
async fn list_records(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<ArtifactRecord>>, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.list_artifacts(&uid, query.prefix.as_deref())?)
        })
        .await
        .map(Json)
}

/// The object key of object `id` of `uid`, refusing an id that is not a UUID.
pub(super) fn object_key(uid: &str, id: &str) -> Result<String, ApiError> {
    if uuid_like(id).is_none() {
        return Err(ApiError::bad_request(format!(
            "object id {id:?} is not a UUID"
        )));
    }
    Ok(format!("{}/objects/{id}", experiment_prefix(uid)))
}

/// Records artifacts, replacing records of the same paths (their objects are removed). Paths must
/// be normal; storage keys must name objects of this experiment.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    post,
    path = "/experiments/{uid}/artifacts",
    params(ExperimentPath),
    request_body = Vec<ArtifactRecord>,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn put_records(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(records): Json<Vec<ArtifactRecord>>,
) -> Result<StatusCode, ApiError> {
    let objects = format!("{}/objects/", experiment_prefix(&uid));
    for record in &records {
        let normal = normalize_artifact_path(&record.path)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if normal != record.path {
            return Err(ApiError::bad_request(format!(
                "artifact path {:?} is not in normal form ({normal:?})",
                record.path
            )));
        }
        no_nul("digest", &record.digest)?;
        no_nul("media_type", &record.media_type)?;
        check_time("created_at", &record.created_at)?;
        // A record may only point at an object of its own experiment.
        let id = record.storage_key.strip_prefix(&objects).unwrap_or("");
        object_key(&uid, id).map_err(|_| {
            ApiError::bad_request(format!(
                "storage key {:?} is not an object of experiment {uid}",
                record.storage_key
            ))
        })?;
    }
    let storage = std::sync::Arc::clone(&state.storage);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            for key in store.put_artifacts(&uid, &records)? {
                storage.delete(&key)?;
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Stores an object (ciphertext), streamed; any size.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    put,
    path = "/experiments/{uid}/objects/{id}",
    params(ObjectPath),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn upload(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let key = object_key(&uid, &id)?;
    let storage = std::sync::Arc::clone(&state.storage);
    let runtime = tokio::runtime::Handle::current();
    let stream = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .boxed();
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            let mut source = StreamReader::new(runtime, stream, format!("upload of {key}"));
            storage.put(&key, &mut source)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Streams an object.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/objects/{id}",
    params(ObjectPath),
    responses(
        (status = 200, description = "The object's bytes", body = Vec<u8>, content_type = "application/octet-stream"),
        Refusals,
    ),
)]
async fn download(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
) -> Result<Body, ApiError> {
    let key = object_key(&uid, &id)?;
    let storage = std::sync::Arc::clone(&state.storage);
    let reader = state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(storage.open(&key)?)
        })
        .await?;
    Ok(streamed(reader))
}

/// A body of what `reader` reads, read off the async workers a chunk at a time.
pub(super) fn streamed(reader: impl Read + Send + 'static) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || pump(reader, &sender));
    // Fused: a compressing layer may poll the stream again after its end.
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    })
    .fuse();
    Body::from_stream(chunks)
}

/// Reads `reader` chunk by chunk into `sender` until the end, an error, or a client gone.
fn pump(mut reader: impl Read, sender: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>) {
    loop {
        let mut chunk = vec![0; CHUNK_BYTES];
        let read = match reader.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                let _ = sender.blocking_send(Err(e));
                return;
            }
        };
        chunk.truncate(read);
        if sender.blocking_send(Ok(Bytes::from(chunk))).is_err() {
            return;
        }
    }
}

/// A URL that downloads the object straight from the storage, valid 15 minutes, or {"url": null}
/// where the storage cannot sign one (then download through GET .../objects/{id}).
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}/objects/{id}/url",
    params(ObjectPath),
    responses(
        (status = 200, description = "OK", body = DownloadUrl),
        Refusals,
    ),
)]
async fn download_url(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
) -> Result<Json<DownloadUrl>, ApiError> {
    let key = object_key(&uid, &id)?;
    let storage = std::sync::Arc::clone(&state.storage);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(DownloadUrl {
                url: storage.download_url(&key, DOWNLOAD_URL_LIFETIME)?,
            })
        })
        .await
        .map(Json)
}

/// Removes an object; a missing one is not an error.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    delete,
    path = "/experiments/{uid}/objects/{id}",
    params(ObjectPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn delete_object(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((uid, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let key = object_key(&uid, &id)?;
    let storage = std::sync::Arc::clone(&state.storage);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            storage.delete(&key)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Removes every artifact object of the experiment.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    delete,
    path = "/experiments/{uid}/objects",
    params(ExperimentPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn delete_objects(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let storage = std::sync::Arc::clone(&state.storage);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            storage.delete_prefix(&experiment_prefix(&uid))?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
