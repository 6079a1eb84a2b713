//! The web UI's credentials: the token kept in an HttpOnly, SameSite=Strict cookie, the
//! CSRF token that every change made with that cookie must carry in a header, and the
//! per-launch token of `opsml ui`, which stands for the local user that owns the store.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};

use super::hash_token;

/// Name of the cookie holding the UI's session token.
pub(crate) const SESSION_COOKIE: &str = "opsml_session";

/// Header in which a change made with the session cookie carries its CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// The session token of the request's cookie, if it has one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}

/// The CSRF token of a session: derived from the session token (so that any server of a
/// team computes the same one without shared state) with its own prefix, so that it is
/// never the stored hash of the token itself.
pub(crate) fn csrf_token(session_token: &str) -> String {
    hash_token(&format!("opsml-csrf\0{session_token}"))
}

/// Whether a request made with the session cookie may go on: reads may; a change must carry
/// the session's CSRF token, which another site's page cannot know.
pub(crate) fn csrf_passes(method: &Method, headers: &HeaderMap, session_token: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let expected = csrf_token(session_token);
    headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        // Compared as hashes, so the time taken says nothing of how much of it matched.
        .is_some_and(|given| hash_token(given) == hash_token(&expected))
}

/// The `Set-Cookie` value that keeps `token` for `max_age_seconds` (0 removes it). The
/// cookie is sent back only to this site's own pages (SameSite=Strict), never to scripts.
pub(crate) fn session_cookie_header(
    token: &str,
    max_age_seconds: u64,
) -> (axum::http::HeaderName, HeaderValue) {
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}"
    );
    (
        SET_COOKIE,
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("")),
    )
}

/// The per-launch token of `opsml ui`, kept only as its hash.
#[derive(Debug, Clone)]
pub(crate) struct LaunchToken {
    hash: String,
}

impl LaunchToken {
    pub(crate) fn new(token: &str) -> Self {
        Self {
            hash: hash_token(token),
        }
    }

    /// Whether `token` is this launch's token (compared as hashes: in constant time as far
    /// as the token is concerned).
    pub(crate) fn matches(&self, token: &str) -> bool {
        hash_token(token) == self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_an_empty_one_is_none() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; opsml_session=tok; b=2"),
        );
        assert_eq!(session_cookie(&headers), Some("tok"));
        headers.insert(COOKIE, HeaderValue::from_static("opsml_session=; x=y"));
        assert_eq!(session_cookie(&headers), None);
        headers.insert(COOKIE, HeaderValue::from_static("not_opsml_session=tok"));
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn changes_need_the_sessions_own_csrf_token_and_reads_do_not() {
        let mut headers = HeaderMap::new();
        assert!(csrf_passes(&Method::GET, &headers, "tok"));
        assert!(!csrf_passes(&Method::POST, &headers, "tok"));
        headers.insert(
            CSRF_HEADER,
            HeaderValue::from_str(&csrf_token("other")).unwrap(),
        );
        assert!(!csrf_passes(&Method::DELETE, &headers, "tok"));
        headers.insert(
            CSRF_HEADER,
            HeaderValue::from_str(&csrf_token("tok")).unwrap(),
        );
        assert!(csrf_passes(&Method::DELETE, &headers, "tok"));
        assert_ne!(csrf_token("tok"), hash_token("tok"));
    }

    #[test]
    fn a_launch_token_matches_only_itself() {
        let launch = LaunchToken::new("secret");
        assert!(launch.matches("secret"));
        assert!(!launch.matches("secreT") && !launch.matches(""));
    }
}
