use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TypesError;

/// Longest remote artifact path accepted, in bytes.
pub const MAX_ARTIFACT_PATH_BYTES: usize = 1024;

/// Where code capture stores a run's installed Python packages, one `name==version` a line.
pub const REQUIREMENTS_PATH: &str = "environment/requirements.txt";
/// Where code capture stores a run's code files, as artifact paths.
pub const CODE_PREFIX: &str = "code/";

/// The record of one stored artifact file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArtifactRecord {
    /// Normalised remote path inside the experiment's artifact root.
    pub path: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Digest of the plaintext: `blake3-keyed:<hex>`, keyed by the experiment's data key so
    /// that only its holders can verify or compare it (records made before keyed digests hold
    /// a bare SHA-256 in hex).
    #[serde(alias = "sha256")]
    pub digest: String,
    /// Media type guessed from the file name.
    pub media_type: String,
    pub created_at: DateTime<Utc>,
    /// Key of the (encrypted) object in the artifact storage. Every upload
    /// gets a fresh object, so a record never describes bytes it did not see.
    pub storage_key: String,
}

/// Normalises a remote artifact path to a forward-slash relative path inside
/// the artifact root: backslashes become slashes, `.` segments and repeated
/// slashes go, and `..` takes back the segment before it (`a/../b.txt` is `b.txt`).
/// Absolute paths, a `..` that would leave the root, empty paths and NUL or other
/// control characters are refused, naming the path.
pub fn normalize_artifact_path(path: &str) -> Result<String, TypesError> {
    let invalid = |reason: &str| TypesError::InvalidPath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.chars().any(char::is_control) {
        return Err(invalid("it contains a NUL or control character"));
    }
    let unified = path.replace('\\', "/");
    if unified.starts_with('/') || has_drive_prefix(&unified) {
        return Err(invalid(
            "it is absolute; give a path relative to the artifact root",
        ));
    }
    let mut parts = Vec::new();
    for part in unified.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(invalid("it escapes the artifact root with '..'"));
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(invalid("it names no file"));
    }
    let normalized = parts.join("/");
    if normalized.len() > MAX_ARTIFACT_PATH_BYTES {
        return Err(invalid(&format!(
            "it is longer than {MAX_ARTIFACT_PATH_BYTES} bytes"
        )));
    }
    Ok(normalized)
}

/// `C:` and the like: absolute on Windows.
fn has_drive_prefix(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normalises_separators_and_dots() {
        assert_eq!(normalize_artifact_path("model.pt").unwrap(), "model.pt");
        assert_eq!(
            normalize_artifact_path("./ckpt//epoch 1/./w.bin").unwrap(),
            "ckpt/epoch 1/w.bin"
        );
        assert_eq!(normalize_artifact_path("a\\b\\c").unwrap(), "a/b/c");
        assert_eq!(normalize_artifact_path("dir/").unwrap(), "dir");
        assert_eq!(
            normalize_artifact_path("données/模型").unwrap(),
            "données/模型"
        );
        assert_eq!(normalize_artifact_path("..hidden").unwrap(), "..hidden");
        assert_eq!(normalize_artifact_path("a/../b.txt").unwrap(), "b.txt");
        assert_eq!(normalize_artifact_path("a/b/../../c/./d").unwrap(), "c/d");
    }

    #[test]
    fn refuses_escapes_absolutes_empties_and_control_characters() {
        for bad in [
            "../x",
            "a/../../x",
            "a/..",
            "/etc/passwd",
            "\\\\server\\share",
            "C:\\x",
            "c:x",
            "",
            ".",
            "./",
            "//",
            "a\0b",
            "a\nb",
        ] {
            let err = normalize_artifact_path(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        let long = "x".repeat(MAX_ARTIFACT_PATH_BYTES + 1);
        assert!(normalize_artifact_path(&long).is_err());
    }

    proptest! {
        #[test]
        fn normalised_paths_are_relative_clean_and_stable(path in "[a-z./\\\\ ]{0,40}") {
            if let Ok(normalized) = normalize_artifact_path(&path) {
                prop_assert!(!normalized.starts_with('/'));
                prop_assert!(!normalized.contains('\\'));
                prop_assert!(!normalized.split('/').any(|p| p.is_empty() || p == "." || p == ".."));
                prop_assert_eq!(normalize_artifact_path(&normalized).unwrap(), normalized);
            }
        }

        #[test]
        fn a_parent_segment_never_leaves_the_root(prefix in "[a-z/]{0,10}", suffix in "[a-z/]{0,10}") {
            let path = format!("{prefix}/../{suffix}");
            let segments_before = prefix.split('/').filter(|p| !p.is_empty()).count();
            match normalize_artifact_path(&path) {
                Ok(normalized) => {
                    prop_assert!(segments_before > 0 && !path.starts_with('/'));
                    prop_assert!(!normalized.split('/').any(|p| p.is_empty() || p == ".."));
                }
                Err(_) => prop_assert!(path.starts_with('/') || segments_before <= 1),
            }
        }
    }
}
