//! The routes, one file per resource.

mod artifact_content;
mod artifacts;
mod batches;
mod experiments;
mod health;
mod lifecycle;
mod metrics_body;
mod openapi;
mod reads;
mod runs;
mod series;
mod table_cells;
mod tokens;
mod ui_session;
mod uploads;
mod users;

use axum::middleware::from_fn_with_state;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::require_token;
use crate::{ApiError, AppState};

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let (router, _) =
        routes(|authenticated| authenticated.route_layer(from_fn_with_state(state, require_token)))
            .split_for_parts();
    router
}

/// The OpenAPI document of every route.
fn described() -> utoipa::openapi::OpenApi {
    routes(|authenticated| authenticated).into_openapi()
}

/// Every route with its description; `guard` puts those that need a token behind the check.
fn routes(
    guard: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let authenticated = OpenApiRouter::new()
        .merge(experiments::router())
        .merge(lifecycle::router())
        .merge(reads::router())
        .merge(artifacts::router())
        .merge(artifact_content::router())
        .merge(uploads::router())
        .merge(batches::router())
        .merge(users::router())
        .merge(tokens::authenticated_router())
        .merge(runs::router())
        .merge(table_cells::router())
        .merge(series::router())
        .merge(ui_session::authenticated_router());
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .nest(
            "/api/v1",
            guard(authenticated)
                .merge(tokens::router())
                .merge(ui_session::router())
                .merge(openapi::router()),
        )
}

/// Every value of the query parameter `key`, in order (`?name=a&name=b`).
pub(crate) fn repeated(raw_query: Option<&str>, key: &str) -> Vec<String> {
    url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// The one value of query parameter `key`, if given.
pub(crate) fn single(raw: Option<&str>, key: &str) -> Result<Option<String>, ApiError> {
    let mut values = repeated(raw, key);
    match values.len() {
        0 => Ok(None),
        1 => Ok(values.pop()),
        n => Err(ApiError::bad_request(format!(
            "{key} is given {n} times; give it once"
        ))),
    }
}

/// The whole number of query parameter `key`, if given.
pub(crate) fn number<T: std::str::FromStr>(
    raw: Option<&str>,
    key: &str,
) -> Result<Option<T>, ApiError> {
    single(raw, key)?
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| ApiError::bad_request(format!("{key} {text:?} is not a whole number")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_keep_commas_and_order() {
        let raw = "name=b%2Cc&limit=3&name=a&tag=x";
        assert_eq!(repeated(Some(raw), "name"), ["b,c", "a"]);
        assert_eq!(repeated(Some(raw), "tag"), ["x"]);
        assert!(repeated(None, "name").is_empty());
    }
}
