//! Card versions as users type them: semver, optionally written with a leading `v`.

use semver::Version;

use crate::TypesError;

/// Parses `text` as a semantic version (`1.2.3`, `v1.2.3`, `1.2.3-rc.1+build`).
///
/// Fails with [`TypesError::InvalidVersion`] naming the text, never panics.
pub fn parse_version(text: &str) -> Result<Version, TypesError> {
    let trimmed = text.trim();
    let bare = trimmed
        .strip_prefix('v')
        .or_else(|| trimmed.strip_prefix('V'))
        .unwrap_or(trimmed);
    Version::parse(bare).map_err(|e| TypesError::InvalidVersion {
        value: text.to_owned(),
        reason: e.to_string(),
    })
}

/// The pre-release tag of a card whose version is not assigned yet: the run started while its
/// server could not be reached, and the server assigns the version once it answers.
pub const PENDING_PRE_RELEASE: &str = "pending";

/// The version a card shows until its server assigns one: `0.0.0-pending`.
#[allow(clippy::expect_used, reason = "\"pending\" is a valid pre-release")]
pub fn pending_version() -> Version {
    let mut version = Version::new(0, 0, 0);
    version.pre = semver::Prerelease::new(PENDING_PRE_RELEASE).expect("a valid pre-release");
    version
}

/// Whether `version` is [`pending_version`]: assigned later by the server.
pub fn is_pending(version: &Version) -> bool {
    version.major == 0
        && version.minor == 0
        && version.patch == 0
        && version.pre.as_str() == PENDING_PRE_RELEASE
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_pending_version_reads_as_such_and_no_assigned_one_does() {
        assert_eq!(pending_version().to_string(), "0.0.0-pending");
        assert!(is_pending(&pending_version()));
        assert!(!is_pending(&Version::new(0, 0, 0)));
        assert!(!is_pending(&parse_version("1.0.0-pending").unwrap()));
    }

    #[test]
    fn accepts_plain_and_v_prefixed_versions() {
        assert_eq!(parse_version("1.2.3").unwrap(), Version::new(1, 2, 3));
        assert_eq!(parse_version(" v0.10.0 ").unwrap(), Version::new(0, 10, 0));
        assert_eq!(
            parse_version("2.0.0-rc.1+build.5").unwrap().to_string(),
            "2.0.0-rc.1+build.5"
        );
    }

    #[test]
    fn refusals_name_the_text() {
        for bad in [
            "", "1", "1.2", "1.2.3.4", "01.2.3", "v", "1.2.x", "1.2.3-", "vv1.2.3",
        ] {
            let err = parse_version(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in any::<String>()) {
            let refused_clearly = match parse_version(&text) {
                Ok(_) => true,
                Err(err) => matches!(err, TypesError::InvalidVersion { .. }),
            };
            prop_assert!(refused_clearly);
        }

        #[test]
        fn printed_versions_parse_back(
            major in any::<u64>(),
            minor in any::<u64>(),
            patch in any::<u64>(),
            pre in proptest::option::of("[a-z][a-z0-9]{0,6}(\\.[1-9][0-9]{0,4})?"),
            prefix in proptest::bool::ANY,
        ) {
            let mut version = Version::new(major, minor, patch);
            if let Some(pre) = &pre {
                version.pre = semver::Prerelease::new(pre).unwrap();
            }
            let text = format!("{}{version}", if prefix { "v" } else { "" });
            prop_assert_eq!(parse_version(&text).unwrap(), version);
        }
    }
}
