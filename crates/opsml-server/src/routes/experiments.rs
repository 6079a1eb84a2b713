//! Experiment cards: create, get, list, search, delete, and what was logged to them.

use axum::extract::{DefaultBodyLimit, Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use opsml_api::wire::{CreateBody, ListQuery, SearchBody, MAX_LIST_LIMIT};
use opsml_registry::{Access, CardQuery, NewExperiment, SearchQuery, Store};
use opsml_types::{validate_name, CardRecord, ExperimentCard, Version};
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::openapi::{ExperimentPath, Refusals};
use super::repeated;
use crate::input::{check_optional_time, check_time, no_nul};
use crate::{ApiError, AppState, Principal, CARD_BODY_BYTES, MAX_BODY_BYTES};

/// Most tags one listing may ask for: each is a condition of its own in the store's query.
const MAX_LIST_TAGS: usize = 64;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list).layer(DefaultBodyLimit::max(CARD_BODY_BYTES)))
        .routes(routes!(search).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .routes(routes!(find))
        // An update carries the whole card, with every child's uid.
        .routes(routes!(load, update, remove).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
}

pub(super) fn invalid(error: &opsml_types::TypesError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

/// Creates an experiment; the server allocates its version and records the authenticated user.
///
/// Needs write access to the experiment's space and, for a child, to its parent's space (a parent
/// the user may not read answers 404). created_at must fall in the years 1 to 9999.
#[utoipa::path(
    post,
    path = "/experiments",
    operation_id = "create_experiment",
    request_body = CreateBody,
    responses(
        (status = 201, description = "Created", body = ExperimentCard),
        Refusals,
        (status = 409, description = "An experiment with this uid exists (code `uid_taken`), in whatever space", body = crate::ErrorBody),
        (status = 413, description = "The body is over 64 KiB", body = crate::ErrorBody),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<CreateBody>,
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
    if let Some(parent) = &body.parent_uid {
        no_nul("parent_uid", parent)?;
    }
    no_nul("opsml_version", &body.opsml_version)?;
    check_time("created_at", &body.created_at)?;
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
            // A child changes its parent's card (it is listed there): the user must be one
            // who may write the parent.
            if let Some(parent) = &new.parent_uid {
                authorized_card(store, &principal, parent, Access::Write)?;
            }
            if store.get_experiment(&new.uid)?.is_some() {
                return Err(uid_taken(&new.uid));
            }
            store.create_experiment(&new).map_err(|error| {
                // A request creating the same uid got in between the check and the insert:
                // the store refused the duplicate, which is the client's conflict, not a
                // failure of the store.
                match store.get_experiment(&new.uid) {
                    Ok(Some(_)) => uid_taken(&new.uid),
                    _ => error.into(),
                }
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(card)))
}

/// The answer to a new experiment whose uid is taken, in whatever space: uids are random,
/// so this tells nothing of other spaces.
fn uid_taken(uid: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "uid_taken",
        format!("an experiment with uid {uid:?} exists"),
    )
}

/// `Some(())` when `uid` has the shape of a UUID (hex digits in 8-4-4-4-12 groups).
pub(super) fn uuid_like(uid: &str) -> Option<()> {
    let groups: Vec<&str> = uid.split('-').collect();
    let shape = [8, 4, 4, 4, 12];
    (groups.len() == shape.len()
        && groups
            .iter()
            .zip(shape)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit())))
    .then_some(())
}

/// The card of `uid` if the user may `access` its space: 404 for no such experiment and,
/// with the same answer, for one the user may not read (so that uids of other spaces cannot
/// be probed); 403 (naming only the uid) for one it may read but not write.
pub(super) fn authorized_card(
    store: &dyn Store,
    principal: &Principal,
    uid: &str,
    access: Access,
) -> Result<ExperimentCard, ApiError> {
    let card = store
        .get_experiment(uid)?
        .ok_or_else(|| no_experiment(uid))?;
    require_on_experiment(principal, &card.space, uid, access)?;
    Ok(card)
}

/// Fails unless the user may `access` experiment `uid` of `space`: as [`authorized_card`]
/// does, for a caller that knows the space already.
pub(super) fn require_on_experiment(
    principal: &Principal,
    space: &str,
    uid: &str,
    access: Access,
) -> Result<(), ApiError> {
    if !principal.may(space, Access::Read) {
        return Err(no_experiment(uid));
    }
    principal.require(space, access, &format!("experiment {uid}"))
}

/// The answer for an experiment that does not exist, or that the user may not read.
pub(super) fn no_experiment(uid: &str) -> ApiError {
    ApiError::not_found(format!("no experiment with uid {uid:?}"))
}

/// The card as `principal` may see it: children in spaces it may not read are left out.
fn visible_card(
    store: &dyn Store,
    principal: &Principal,
    mut card: ExperimentCard,
) -> Result<ExperimentCard, ApiError> {
    if principal.admin || card.experimentcard_uids.is_empty() {
        return Ok(card);
    }
    let mut visible = Vec::with_capacity(card.experimentcard_uids.len());
    for child in card.experimentcard_uids {
        let query = CardQuery {
            uid: Some(child.clone()),
            limit: 1,
            ..CardQuery::default()
        };
        let readable = store
            .list_experiments(&query)?
            .first()
            .is_some_and(|record| principal.may(&record.space, Access::Read));
        if readable {
            visible.push(child);
        }
    }
    card.experimentcard_uids = visible;
    Ok(card)
}

/// The card, children included.
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/{uid}",
    params(ExperimentPath),
    responses(
        (status = 200, description = "OK", body = ExperimentCard),
        Refusals,
    ),
)]
async fn load(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<Json<ExperimentCard>, ApiError> {
    state
        .with_store(move |store| {
            let card = authorized_card(store, &principal, &uid, Access::Read)?;
            visible_card(store, &principal, card)
        })
        .await
        .map(Json)
}

/// Saves the card's tags, status and end time (nothing else of it changes).
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    put,
    path = "/experiments/{uid}",
    params(ExperimentPath),
    request_body = ExperimentCard,
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
    Json(body): Json<ExperimentCard>,
) -> Result<StatusCode, ApiError> {
    for tag in &body.tags {
        validate_name("tag", tag).map_err(|e| invalid(&e))?;
    }
    check_optional_time("ended_at", body.ended_at.as_ref())?;
    state
        .with_store(move |store| {
            let mut card = authorized_card(store, &principal, &uid, Access::Write)?;
            card.tags = body.tags;
            card.status = body.status;
            card.ended_at = body.ended_at;
            store.update_experiment(&card)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Deletes the experiment, what was logged to it and its artifact objects.
///
/// Needs write access to the experiment's space.
#[utoipa::path(
    delete,
    path = "/experiments/{uid}",
    operation_id = "remove_experiment",
    params(ExperimentPath),
    responses(
        (status = 204, description = "Done"),
        Refusals,
    ),
)]
async fn remove(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(uid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let spaces = std::sync::Arc::clone(&state.spaces);
    let storage = std::sync::Arc::clone(&state.storage);
    state
        .with_store(move |store| {
            authorized_card(store, &principal, &uid, Access::Write)?;
            spaces.remove(&uid);
            if !store.delete_experiment(&uid)? {
                return Err(no_experiment(&uid));
            }
            // The records are gone, so nothing can read the objects any more.
            storage.delete_prefix(&opsml_registry::experiment_prefix(&uid))?;
            Ok(StatusCode::NO_CONTENT)
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

fn limit(requested: Option<usize>) -> Result<usize, ApiError> {
    match requested {
        None => Ok(100),
        Some(n) if (1..=MAX_LIST_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n} is outside 1..={MAX_LIST_LIMIT}"
        ))),
    }
}

fn version(text: Option<&str>) -> Result<Option<Version>, ApiError> {
    text.map(opsml_types::parse_version)
        .transpose()
        .map_err(|e| invalid(&e))
}

/// Card records of the readable spaces, filtered.
#[utoipa::path(
    get,
    path = "/experiments",
    operation_id = "list_experiments",
    params(
        ("uid" = Option<String>, Query, description = "Only this uid."),
        ("space" = Option<String>, Query, description = "Only this space (which must be readable)."),
        ("name" = Option<String>, Query, description = "Only this name."),
        ("version" = Option<String>, Query, description = "Only this version."),
        ("tag" = Option<String>, Query, description = "Cards carrying this tag; repeat for several (at most 64)."),
        ("max_date" = Option<String>, Query, description = "Created at or before this RFC 3339 instant."),
        ("newest_first" = Option<bool>, Query, description = "Newest first instead of by space, name, version."),
        ("limit" = Option<usize>, Query, description = "At most this many (1..=10000, default 100)."),
    ),
    responses(
        (status = 200, description = "OK", body = Vec<CardRecord>),
        Refusals,
    ),
)]
async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<CardRecord>>, ApiError> {
    let tags = repeated(raw.as_deref(), "tag");
    if tags.len() > MAX_LIST_TAGS {
        return Err(ApiError::bad_request(format!(
            "a listing takes at most {MAX_LIST_TAGS} tags, not {}",
            tags.len()
        )));
    }
    let spaces = visible_spaces(&principal, query.space.as_deref())?;
    if spaces.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Json(Vec::new()));
    }
    let card_query = CardQuery {
        uid: query.uid,
        version: version(query.version.as_deref())?,
        space: query.space,
        spaces,
        name: query.name,
        tags,
        max_date: query.max_date,
        sort_by_timestamp: query.newest_first,
        limit: limit(query.limit)?,
    };
    state
        .with_store(move |store| Ok(store.list_experiments(&card_query)?))
        .await
        .map(Json)
}

/// Query of `GET /experiments/find`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindQuery {
    space: String,
    name: String,
    /// The newest version when absent.
    version: Option<String>,
}

/// The card of a space, name and version (the newest without one).
///
/// Needs read access to the experiment's space.
#[utoipa::path(
    get,
    path = "/experiments/find",
    params(
        ("space" = String, Query, description = "The space."),
        ("name" = String, Query, description = "The name."),
        ("version" = Option<String>, Query, description = "The version; the newest when absent."),
    ),
    responses(
        (status = 200, description = "OK", body = ExperimentCard),
        Refusals,
    ),
)]
async fn find(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<FindQuery>,
) -> Result<Json<ExperimentCard>, ApiError> {
    principal.require(
        &query.space,
        Access::Read,
        &format!("space {:?}", query.space),
    )?;
    let version = version(query.version.as_deref())?;
    state
        .with_store(move |store| {
            let card = store
                .find_experiment(&query.space, &query.name, version.as_ref())?
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "no experiment in space {:?} named {:?}",
                        query.space, query.name
                    ))
                })?;
            visible_card(store, &principal, card)
        })
        .await
        .map(Json)
}

/// Experiments matching a filter of the search language, in the readable spaces.
///
/// A filter holds at most 200 conditions, 5000 values and 1000 values per `in` list, and an
/// order-by list at most 32 items; larger searches, and strings with a NUL character, answer 400.
#[utoipa::path(
    post,
    path = "/experiments/search",
    request_body = SearchBody,
    responses(
        (status = 200, description = "OK", body = Vec<CardRecord>),
        Refusals,
    ),
)]
async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Json(body): Json<SearchBody>,
) -> Result<Json<Vec<CardRecord>>, ApiError> {
    let Some(query) = search_query(&principal, body)? else {
        return Ok(Json(Vec::new()));
    };
    state
        .with_store(move |store| Ok(store.search_experiments(&query)?))
        .await
        .map(Json)
}

/// The store's query for a search by `principal`, limited to the spaces it may read; `None`
/// when it may read none. A filter or order that does not parse is a 400 naming where.
pub(super) fn search_query(
    principal: &Principal,
    body: SearchBody,
) -> Result<Option<SearchQuery>, ApiError> {
    if let Some(space) = &body.space {
        no_nul("space", space)?;
    }
    let syntax = |e: opsml_query::QueryError| ApiError::bad_request(e.to_string());
    // A tree was built by the client, not by the parser: it is held to the parser's bounds.
    let filter = match body.tree {
        Some(tree) => {
            opsml_query::check_filter(&tree).map_err(syntax)?;
            Some(tree)
        }
        None if body.filter.trim().is_empty() => None,
        None => Some(opsml_query::parse_filter(&body.filter).map_err(syntax)?),
    };
    let order_by = match body.order {
        Some(order) => {
            opsml_query::check_order_by(&order).map_err(syntax)?;
            order
        }
        None => {
            let order: Vec<&str> = body.order_by.iter().map(String::as_str).collect();
            opsml_query::parse_order_by(&order).map_err(syntax)?
        }
    };
    let spaces = visible_spaces(principal, body.space.as_deref())?;
    if spaces.as_ref().is_some_and(Vec::is_empty) {
        return Ok(None);
    }
    Ok(Some(SearchQuery {
        filter,
        space: body.space,
        spaces,
        order_by,
        limit: limit(body.limit)?,
    }))
}
