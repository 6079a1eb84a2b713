//! Experiment cards: create, get, list, search, delete, and what was logged to them.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use opsml_registry::{Access, CardQuery, Lease, NewExperiment, SearchQuery, Store};
use opsml_types::{
    validate_name, CardRecord, ComputeEnvironment, ExperimentCard, MetricSummary, Parameter,
};
use serde::Deserialize;

use crate::{ApiError, AppState, Principal};

/// Most cards one listing or search returns.
const MAX_LIMIT: usize = 10_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/experiments", post(create).get(list))
        .route("/experiments/search", post(search))
        .route("/experiments/{uid}", get(load).delete(remove))
        .route("/experiments/{uid}/parameters", get(parameters))
        .route("/experiments/{uid}/summaries", get(summaries))
}

/// The body of `POST /experiments`: the store allocates the version, and the card records
/// the authenticated user as its user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateExperiment {
    uid: String,
    space: String,
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    parent_uid: Option<String>,
    #[serde(default)]
    compute_environment: ComputeEnvironment,
    opsml_version: String,
    created_at: DateTime<Utc>,
    lease: Lease,
}

fn invalid(error: &opsml_types::TypesError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<CreateExperiment>,
) -> Result<(StatusCode, Json<ExperimentCard>), ApiError> {
    principal.require(
        &body.space,
        Access::Write,
        &format!("space {:?}", body.space),
    )?;
    validate_name("space", &body.space).map_err(|e| invalid(&e))?;
    validate_name("experiment", &body.name).map_err(|e| invalid(&e))?;
    for tag in &body.tags {
        validate_name("tag", tag).map_err(|e| invalid(&e))?;
    }
    if uuid_like(&body.uid).is_none() {
        return Err(ApiError::bad_request(format!(
            "uid {:?} is not a UUID",
            body.uid
        )));
    }
    let new = NewExperiment {
        uid: body.uid,
        space: body.space,
        name: body.name,
        tags: body.tags,
        parent_uid: body.parent_uid,
        compute_environment: body.compute_environment,
        opsml_version: body.opsml_version,
        username: principal.username.clone(),
        created_at: body.created_at,
        lease: body.lease,
    };
    let card = state
        .with_store(move |store| {
            // A child is listed on its parent's card: the parent must be one the user may read.
            if let Some(parent) = &new.parent_uid {
                authorized_card(store, &principal, parent, Access::Read)?;
            }
            Ok(store.create_experiment(&new)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// `Some(())` when `uid` has the shape of a UUID (hex digits in 8-4-4-4-12 groups).
fn uuid_like(uid: &str) -> Option<()> {
    let groups: Vec<&str> = uid.split('-').collect();
    let shape = [8, 4, 4, 4, 12];
    (groups.len() == shape.len()
        && groups
            .iter()
            .zip(shape)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit())))
    .then_some(())
}

/// The card of `uid` if the user may `access` its space: 404 for no such experiment, 403
/// (naming only the uid) for one in a space the user may not use.
pub(super) fn authorized_card(
    store: &dyn Store,
    principal: &Principal,
    uid: &str,
    access: Access,
) -> Result<ExperimentCard, ApiError> {
    let card = store
        .get_experiment(uid)?
        .ok_or_else(|| ApiError::not_found(format!("no experiment with uid {uid:?}")))?;
    principal.require(&card.space, access, &format!("experiment {uid}"))?;
    Ok(card)
}

async fn load(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<ExperimentCard>, ApiError> {
    state
        .with_store(move |store| authorized_card(store, &principal, &uid, Access::Read))
        .await
        .map(Json)
}

async fn remove(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let spaces = std::sync::Arc::clone(&state.spaces);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            spaces.remove(&uid);
            if store.delete_experiment(&uid)? {
                Ok(StatusCode::NO_CONTENT)
            } else {
                Err(ApiError::not_found(format!(
                    "no experiment with uid {uid:?}"
                )))
            }
        })
        .await
}

/// The spaces a listing may show: the one asked for (which the user must be able to read),
/// else every space the user may read. `Some(empty)`: nothing to show.
fn visible_spaces(
    principal: &Principal,
    asked: Option<&str>,
) -> Result<Option<Vec<String>>, ApiError> {
    match asked {
        Some(space) => {
            principal.require(space, Access::Read, &format!("space {space:?}"))?;
            Ok(None)
        }
        None => Ok(principal.readable_spaces()),
    }
}

/// Query of `GET /experiments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    space: Option<String>,
    name: Option<String>,
    version: Option<String>,
    /// Comma-separated tags the cards must all carry.
    tags: Option<String>,
    /// Newest first instead of by space, name and version.
    #[serde(default)]
    newest_first: bool,
    limit: Option<usize>,
}

fn limit(requested: Option<usize>) -> Result<usize, ApiError> {
    match requested {
        None => Ok(100),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n} is outside 1..={MAX_LIMIT}"
        ))),
    }
}

async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<CardRecord>>, ApiError> {
    let spaces = visible_spaces(&principal, query.space.as_deref())?;
    if spaces.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Json(Vec::new()));
    }
    let version = query
        .version
        .as_deref()
        .map(opsml_types::parse_version)
        .transpose()
        .map_err(|e| invalid(&e))?;
    let card_query = CardQuery {
        space: query.space,
        spaces,
        name: query.name,
        version,
        tags: query
            .tags
            .map(|t| t.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        sort_by_timestamp: query.newest_first,
        limit: limit(query.limit)?,
        ..CardQuery::default()
    };
    state
        .with_store(move |store| Ok(store.list_experiments(&card_query)?))
        .await
        .map(Json)
}

/// Body of `POST /experiments/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    /// A filter of the search language; empty or absent matches every experiment.
    #[serde(default)]
    filter: String,
    #[serde(default)]
    order_by: Vec<String>,
    space: Option<String>,
    limit: Option<usize>,
}

async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<SearchBody>,
) -> Result<Json<Vec<CardRecord>>, ApiError> {
    let spaces = visible_spaces(&principal, body.space.as_deref())?;
    if spaces.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Json(Vec::new()));
    }
    let syntax = |e: opsml_query::QueryError| ApiError::bad_request(e.to_string());
    let filter = if body.filter.trim().is_empty() {
        None
    } else {
        Some(opsml_query::parse_filter(&body.filter).map_err(syntax)?)
    };
    let order: Vec<&str> = body.order_by.iter().map(String::as_str).collect();
    let query = SearchQuery {
        filter,
        space: body.space,
        spaces,
        order_by: opsml_query::parse_order_by(&order).map_err(syntax)?,
        limit: limit(body.limit)?,
    };
    state
        .with_store(move |store| Ok(store.search_experiments(&query)?))
        .await
        .map(Json)
}

async fn parameters(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<Vec<Parameter>>, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.read_parameters(&uid, None)?)
        })
        .await
        .map(Json)
}

async fn summaries(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<Vec<MetricSummary>>, ApiError> {
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Read)?;
            Ok(store.metric_summaries(&uid)?)
        })
        .await
        .map(Json)
}
