//! The user behind a request and the spaces it may use.

use std::collections::BTreeMap;

use opsml_registry::Access;

use crate::ApiError;

/// An authenticated user, as the routes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: String,
    pub admin: bool,
    grants: BTreeMap<String, Access>,
}

impl Principal {
    pub fn new(
        username: String,
        admin: bool,
        grants: impl IntoIterator<Item = (String, Access)>,
    ) -> Self {
        Self {
            username,
            admin,
            grants: grants.into_iter().collect(),
        }
    }

    /// Whether the user may `access` `space`.
    pub fn may(&self, space: &str, access: Access) -> bool {
        self.admin
            || self
                .grants
                .get(space)
                .is_some_and(|granted| *granted >= access)
    }

    /// Fails with 403 unless the user may `access` `space`; `what` names the thing asked for
    /// (the space itself, or an experiment by uid so that its space is not revealed).
    pub fn require(&self, space: &str, access: Access, what: &str) -> Result<(), ApiError> {
        if self.may(space, access) {
            return Ok(());
        }
        let verb = match access {
            Access::Read => "read",
            Access::Write => "write",
        };
        Err(ApiError::forbidden(format!(
            "user {:?} may not {verb} {what}",
            self.username
        )))
    }

    /// Fails with 403 unless the user is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "user {:?} is not an admin",
                self.username
            )))
        }
    }

    /// The spaces the user may read; `None` for an admin, who may read all.
    pub fn readable_spaces(&self) -> Option<Vec<String>> {
        (!self.admin).then(|| self.grants.keys().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_includes_read_and_admins_may_everything() {
        let user = Principal::new(
            "ana".into(),
            false,
            [
                ("a".to_owned(), Access::Write),
                ("b".to_owned(), Access::Read),
            ],
        );
        assert!(user.may("a", Access::Read) && user.may("a", Access::Write));
        assert!(user.may("b", Access::Read) && !user.may("b", Access::Write));
        assert!(!user.may("c", Access::Read));
        assert_eq!(user.readable_spaces(), Some(vec!["a".into(), "b".into()]));
        let admin = Principal::new("root".into(), true, []);
        assert!(admin.may("anything", Access::Write));
        assert_eq!(admin.readable_spaces(), None);
        assert_eq!(
            user.require("c", Access::Read, "space \"c\"")
                .unwrap_err()
                .status,
            403
        );
    }
}
