//! Checks of what clients send that several routes share: text a store cannot keep, and
//! times the readers of a card cannot hold. A mistake of the client's must come back as a
//! 400 naming it, never reach the store and come back as a store failure (503), which
//! clients retry.

use std::ops::RangeInclusive;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};

use crate::ApiError;

/// Years a time of a card or record may fall in: those of Python's `datetime`, which every
/// Python reader turns stored times into.
pub(crate) const YEARS: RangeInclusive<i32> = 1..=9999;

/// Fails with 400, naming `field`, unless `time` falls in [`YEARS`].
pub(crate) fn check_time(field: &str, time: &DateTime<Utc>) -> Result<(), ApiError> {
    if YEARS.contains(&time.year()) {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "{field} {time:?} is outside the years {} to {} that a date can hold",
        YEARS.start(),
        YEARS.end()
    )))
}

/// [`check_time`] of a time that may be absent.
pub(crate) fn check_optional_time(
    field: &str,
    time: Option<&DateTime<Utc>>,
) -> Result<(), ApiError> {
    time.map_or(Ok(()), |time| check_time(field, time))
}

/// Fails with 400 when `value` holds a NUL character: PostgreSQL keeps no text with one.
pub(crate) fn no_nul(what: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "{what} {value:?} holds a NUL character"
        )));
    }
    Ok(())
}

/// Refuses a request whose path or query holds an encoded NUL character (`%00`, the only
/// way one can be sent there): every path and query value ends up compared with stored text.
pub(crate) async fn refuse_nul_in_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    if target
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        return ApiError::bad_request(
            "the request's path or query holds a NUL character (%00), which no name, uid or \
             other value there can hold",
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_must_be_ones_a_date_can_hold() {
        let ok = "9999-12-31T23:59:59.999999Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert!(check_time("created_at", &ok).is_ok());
        let first = "0001-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert!(check_time("created_at", &first).is_ok());
        let far = DateTime::<Utc>::MAX_UTC;
        let err = check_time("ended_at", &far).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message.starts_with("ended_at +262142"),
            "{}",
            err.message
        );
        let before = DateTime::<Utc>::MIN_UTC;
        assert!(check_time("created_at", &before).is_err());
        assert!(check_optional_time("ended_at", None).is_ok());
    }

    #[test]
    fn nul_characters_are_named_escaped() {
        let err = no_nul("opsml_version", "1\0").unwrap_err();
        assert_eq!(err.message, r#"opsml_version "1\0" holds a NUL character"#);
        assert!(no_nul("opsml_version", "1.0").is_ok());
    }
}
