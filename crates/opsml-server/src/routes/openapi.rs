//! `GET /api/v1/openapi.json`: the OpenAPI document of the API (no token needed), made from
//! the handlers' `#[utoipa::path]` attributes and the types they take and give, so that it
//! describes every route the server serves and nothing else.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{AppState, ErrorBody};

/// What the document says of the API as a whole.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "opsml server",
        version = "1",
        description = "A team's experiment registry. Every /api/v1 route but the login routes and \
            this document needs a bearer token from POST /api/v1/auth/token, or the web UI's \
            session cookie from POST /api/v1/ui/login (a change made with the cookie also needs \
            the session's CSRF token in the x-csrf-token header); each checks the user's read or \
            write access to the space it touches. Errors are JSON: \
            {\"error\": {\"code\": ..., \"message\": ...}}. An experiment the user may not read \
            answers exactly as one that does not exist (404). Request bodies are limited to \
            8 KiB unless a route says otherwise (413 beyond); a client that takes longer than \
            30 s (OPSML_SERVER_READ_TIMEOUT) to send a request's headers, or to send more of its \
            body, is cut off.",
    ),
    security(("bearer" = [])),
    components(responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict)),
    modifiers(&BearerToken),
)]
pub(super) struct ApiDoc;

/// The `bearer` scheme the document's security requirement names.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

// The answers many routes share, named in the document once. They are never built: a route
// answers them through `ApiError`.

/// The request is malformed or a value is invalid; the message names it
#[derive(ToResponse)]
#[allow(
    dead_code,
    reason = "described in the document, answered through ApiError"
)]
pub(super) struct BadRequest(ErrorBody);

/// No token, or one that is unknown or expired
#[derive(ToResponse)]
#[allow(
    dead_code,
    reason = "described in the document, answered through ApiError"
)]
pub(super) struct Unauthorized(ErrorBody);

/// The user may not use this space, or may read this experiment but not write it (other
/// spaces are never named)
#[derive(ToResponse)]
#[allow(
    dead_code,
    reason = "described in the document, answered through ApiError"
)]
pub(super) struct Forbidden(ErrorBody);

/// No such experiment, or one in a space the user may not read: both answer the same
#[derive(ToResponse)]
#[allow(
    dead_code,
    reason = "described in the document, answered through ApiError"
)]
pub(super) struct NotFound(ErrorBody);

/// A batch out of sequence
#[derive(ToResponse)]
#[allow(
    dead_code,
    reason = "described in the document, answered through ApiError"
)]
pub(super) struct Conflict(ErrorBody);

/// The refusals of a route that needs a user with access to what it names: 400, 401, 403 and
/// 404, each as described once in the document.
pub(super) enum Refusals {}

impl IntoResponses for Refusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("404", "NotFound"),
        ]
        .into_iter()
        .map(|(status, name)| (status.to_owned(), RefOr::Ref(Ref::from_response_name(name))))
        .collect()
    }
}

/// The path of an experiment's routes: `{uid}`.
pub(super) enum ExperimentPath {}

impl IntoParams for ExperimentPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![in_path("uid", "The experiment's uid (a UUID).")]
    }
}

/// The path of an experiment's object: `{uid}` and `{id}`.
pub(super) enum ObjectPath {}

impl IntoParams for ObjectPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            in_path("uid", "The experiment's uid (a UUID)."),
            in_path("id", "The object id (a UUID)."),
        ]
    }
}

/// The path of a user's routes: `{username}`.
pub(super) enum UserPath {}

impl IntoParams for UserPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![in_path("username", "The user.")]
    }
}

/// The path of a user's grant: `{username}` and `{space}`.
pub(super) enum GrantPath {}

impl IntoParams for GrantPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            in_path("username", "The user."),
            in_path("space", "The space."),
        ]
    }
}

/// A text segment `name` of the path.
fn in_path(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    responses(
        (status = 200, description = "OK", body = Object),
    ),
    security(()),
)]
async fn document() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(|| {
        super::described()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"the document did not serialize: {e}\"}}"))
    });
    ([(header::CONTENT_TYPE, "application/json")], json.as_str())
}
