use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

/// Environment variable holding the tracking URI.
pub const TRACKING_URI_ENV: &str = "OPSML_TRACKING_URI";

/// Where cards and metrics are stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrackingUri {
    /// An embedded SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: `postgres://user:password@host:port/database` (or any
    /// connection string the PostgreSQL client accepts).
    Postgres(String),
    /// An opsml server: `http://host:port` or `https://host:port` (no trailing slash).
    Http(String),
}

impl TrackingUri {
    /// Parses `sqlite:///absolute/path.db`, `sqlite://relative.db` or a bare
    /// path ending in `.db`. Relative paths are taken from `cwd`. Anything else is refused
    /// rather than taken for a new store in the current directory: a typo must not start a
    /// run nobody will find.
    pub fn parse(uri: &str, cwd: &Path) -> Result<Self> {
        let invalid = |reason: &str| StoreError::InvalidUri {
            what: "tracking",
            uri: uri.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = uri.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if let Some(path) = trimmed.strip_prefix("sqlite://") {
            if path.is_empty() || path == "/" {
                return Err(invalid("no database path after sqlite://"));
            }
            // sqlite:///abs/path keeps its leading slash (however many were
            // written); sqlite://rel/path is relative.
            let path = if path.starts_with('/') {
                format!("/{}", path.trim_start_matches('/'))
            } else {
                path.to_owned()
            };
            return Ok(Self::Sqlite(cwd.join(path)));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            return Ok(Self::Postgres(trimmed.to_owned()));
        }
        if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            let parsed = url::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(invalid("no host"));
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(invalid("query strings and fragments are not supported"));
            }
            return Ok(Self::Http(trimmed.trim_end_matches('/').to_owned()));
        }
        if trimmed.contains("://") {
            return Err(invalid(
                "unknown scheme; expected sqlite://, postgres:// or http(s)://",
            ));
        }
        if let Some(scheme) = scheme_like(trimmed) {
            return Err(invalid(&match scheme {
                "sqlite" => format!(
                    "a sqlite URI needs //: sqlite:///absolute/path.db or sqlite://relative.db \
                     (did you mean sqlite://{}?)",
                    &trimmed["sqlite:".len()..]
                ),
                _ => format!(
                    "unknown scheme {scheme}:; expected sqlite://, postgres:// or http(s)://"
                ),
            }));
        }
        let is_db = Path::new(trimmed)
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("db"));
        if !is_db {
            return Err(invalid(
                "not a URI, and a path to a store file must end in .db \
                 (or be written sqlite:///path)",
            ));
        }
        Ok(Self::Sqlite(cwd.join(trimmed)))
    }

    /// The URI from `OPSML_TRACKING_URI`, or `sqlite:///<cwd>/opsml.db`.
    pub fn from_env() -> Result<Self> {
        let cwd = std::env::current_dir().map_err(|source| StoreError::CreateDir {
            path: PathBuf::from("."),
            source,
        })?;
        match std::env::var(TRACKING_URI_ENV) {
            Ok(value) if !value.trim().is_empty() => Self::parse(&value, &cwd),
            _ => Ok(Self::Sqlite(cwd.join("opsml.db"))),
        }
    }
}

/// The `name` of a text that starts like a URI, `name:` (a Windows drive letter is a path).
fn scheme_like(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let is_scheme = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_absolute_relative_and_bare_paths() {
        let cwd = Path::new("/work");
        assert_eq!(
            TrackingUri::parse("sqlite:///data/runs.db", cwd).unwrap(),
            TrackingUri::Sqlite("/data/runs.db".into())
        );
        assert_eq!(
            TrackingUri::parse("sqlite:////data//runs.db", cwd).unwrap(),
            TrackingUri::Sqlite("/data//runs.db".into())
        );
        assert_eq!(
            TrackingUri::parse("sqlite://runs.db", cwd).unwrap(),
            TrackingUri::Sqlite("/work/runs.db".into())
        );
        assert_eq!(
            TrackingUri::parse("local/opsml.db", cwd).unwrap(),
            TrackingUri::Sqlite("/work/local/opsml.db".into())
        );
    }

    #[test]
    fn postgres_uris_are_kept_whole() {
        let uri = "postgresql://opsml:secret@db.internal:5432/runs?sslmode=disable";
        assert_eq!(
            TrackingUri::parse(uri, Path::new("/")).unwrap(),
            TrackingUri::Postgres(uri.to_owned())
        );
    }

    #[test]
    fn server_uris_lose_their_trailing_slash() {
        let cwd = Path::new("/work");
        assert_eq!(
            TrackingUri::parse("http://opsml.internal:8000/", cwd).unwrap(),
            TrackingUri::Http("http://opsml.internal:8000".to_owned())
        );
        assert_eq!(
            TrackingUri::parse("https://opsml.example.com", cwd).unwrap(),
            TrackingUri::Http("https://opsml.example.com".to_owned())
        );
        assert!(TrackingUri::parse("http://host:8000/?x=1", cwd).is_err());
    }

    #[test]
    fn names_the_uri_in_errors() {
        let cwd = Path::new("/work");
        let err = TrackingUri::parse("mysql://db", cwd).unwrap_err();
        assert!(err.to_string().contains("mysql://db"), "{err}");
        let err = TrackingUri::parse("http://:8000", cwd).unwrap_err();
        assert!(err.to_string().contains("http://:8000"), "{err}");
        assert!(TrackingUri::parse("sqlite://", cwd).is_err());
        assert!(TrackingUri::parse("  ", cwd).is_err());
    }

    #[test]
    fn typos_are_refused_not_taken_for_a_new_store() {
        let cwd = Path::new("/work");
        let err = TrackingUri::parse("sqlite:/abs/x.db", cwd).unwrap_err();
        assert!(
            err.to_string().contains("did you mean sqlite:///abs/x.db?"),
            "{err}"
        );
        for typo in ["garbage", "postgress:db", "opsml", "runs/opsml"] {
            let err = TrackingUri::parse(typo, cwd).unwrap_err().to_string();
            assert!(err.contains(typo), "{err}");
        }
    }
}
