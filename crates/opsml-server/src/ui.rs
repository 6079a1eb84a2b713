//! The web UI: the single-page app built from `ui/` and embedded in the binary, served at
//! every path outside the API. Hashed files (`/assets/…`) are cached for a year; every other
//! path answers the app's page, never cached, and the app reads the path. Every response of
//! the server carries a strict Content-Security-Policy (scripts, styles and connections of
//! this origin only; no frames) and is compressed for browsers that ask.
//!
//! `opsml ui` prints its address with a per-launch token (`/?token=…`): opening it moves the
//! token into an HttpOnly, SameSite=Strict cookie and redirects to the same page without it,
//! so that the token leaves the address bar and the browser's history.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::CompressionLevel;

use crate::auth::{session_cookie_header, TOKEN_LIFETIME};
use crate::{ApiError, AppState};

#[derive(rust_embed::Embed)]
#[folder = "$OPSML_UI_DIST"]
struct Assets;

/// What the app's pages may load: everything from this origin, images also as data and blob
/// URLs (charts saved as pictures), nothing inline, nothing from elsewhere.
const CONTENT_SECURITY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Hashed file names change with their content: a year in any cache.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The app's page and unhashed files: asked again each time.
const REVALIDATE: &str = "no-cache";

/// `router` with the security headers on every response and compression for clients that
/// ask (not of ciphertext or Arrow streams, which do not compress), at the fastest level:
/// JSON of numbers shrinks about tenfold even so, and the runs table's 4 MB take a few
/// milliseconds instead of tens.
pub(crate) fn protect(router: Router) -> Router {
    let compress = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/octet-stream"))
        .and(NotForContentType::const_new(
            opsml_api::ARROW_STREAM_MEDIA_TYPE,
        ));
    router
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(CompressionLevel::Fastest)
                .compress_when(compress),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// Answers every path no route took: the app's files and pages; a 404 in the API's shape
/// under `/api/`.
pub(crate) async fn page(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") || !matches!(method, Method::GET | Method::HEAD) {
        return ApiError::not_found(format!("no route for {method} {}", uri.path()))
            .into_response();
    }
    if let Some(token) = launch_token(raw.as_deref()) {
        return open_launch(&state, &token, uri.path());
    }
    if let Some(file) = (!path.is_empty()).then(|| Assets::get(path)).flatten() {
        let cache = if path.starts_with("assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return file_response(path, file.data.into_owned(), cache);
    }
    // A missing hashed file is a stale page asking for an old build: not the app's page.
    if path.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    match Assets::get("index.html") {
        Some(index) => file_response("index.html", index.data.into_owned(), REVALIDATE),
        None => (StatusCode::NOT_FOUND, "this build has no web UI").into_response(),
    }
}

fn file_response(path: &str, bytes: Vec<u8>, cache: &'static str) -> Response {
    let media_type = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = HeaderValue::from_str(media_type.as_ref())
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// The `token` parameter of the query, if there is one.
fn launch_token(raw: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(raw?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
}

/// The launch address of `opsml ui`: its token into the session cookie, then the same page
/// without the token. A wrong or old token (or any token on a server) sets nothing.
fn open_launch(state: &AppState, token: &str, path: &str) -> Response {
    let valid = state
        .launch
        .as_ref()
        .is_some_and(|launch| launch.matches(token));
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            "<!doctype html><meta charset=\"utf-8\"><title>opsml</title>\
             <p>This address holds a token that is not this server's: open the address \
             that <code>opsml ui</code> printed when it started.",
        )
            .into_response();
    }
    let target = same_site_path(path);
    let location = HeaderValue::from_str(&target).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (
        StatusCode::SEE_OTHER,
        [
            session_cookie_header(token, TOKEN_LIFETIME.as_secs()),
            (LOCATION, location),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// `path` as a redirect that stays on this site: browsers read `//host` and `/\host` as
/// another site, so a path that starts like one, or holds a backslash, leads to `/` instead.
fn same_site_path(path: &str) -> String {
    let rest = path.trim_start_matches('/');
    if rest.contains('\\') {
        return "/".to_owned();
    }
    format!("/{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_a_query_among_others() {
        assert_eq!(
            launch_token(Some("a=1&token=x%2By")).as_deref(),
            Some("x+y")
        );
        assert_eq!(launch_token(Some("tokens=1")), None);
        assert_eq!(launch_token(None), None);
    }

    #[test]
    fn a_launch_redirect_never_leaves_the_site() {
        assert_eq!(same_site_path("/runs/x"), "/runs/x");
        assert_eq!(same_site_path("//evil.example/x"), "/evil.example/x");
        assert_eq!(same_site_path("/\\evil.example"), "/");
        assert_eq!(same_site_path(""), "/");
    }
}
