//! Short-lived memory of the server, so that a client's stream of batches does not repeat
//! the same lookups: who a token belongs to, and which space an experiment is in. Servers
//! still share nothing: an entry is a copy of what the database said a moment ago.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::Principal;

/// How long a token's user and grants are trusted before they are read again. A change made
/// through another server reaches this one within this time.
pub(crate) const PRINCIPAL_TTL: Duration = Duration::from_secs(10);

/// Entries kept at most; a full cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// Principals by token hash.
#[derive(Debug, Default)]
pub(crate) struct Principals {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl Principals {
    pub(crate) fn get(&self, token_hash: &str) -> Option<Principal> {
        let entries = self.entries.lock();
        let (principal, at) = entries.get(token_hash)?;
        (at.elapsed() < PRINCIPAL_TTL).then(|| principal.clone())
    }

    pub(crate) fn insert(&self, token_hash: String, principal: Principal) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash, (principal, Instant::now()));
    }

    /// Forgets everything: users or grants changed.
    pub(crate) fn clear(&self) {
        self.entries.lock().clear();
    }
}

/// How long an experiment's space is trusted: an experiment never changes space, but one
/// deleted through another server may be created again under its uid elsewhere.
pub(crate) const SPACE_TTL: Duration = PRINCIPAL_TTL;

/// Spaces of experiments by uid.
#[derive(Debug, Default)]
pub(crate) struct Spaces {
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

impl Spaces {
    pub(crate) fn get(&self, uid: &str) -> Option<String> {
        self.get_within(uid, SPACE_TTL)
    }

    /// The space of `uid` if it was looked up less than `max_age` ago.
    fn get_within(&self, uid: &str, max_age: Duration) -> Option<String> {
        let entries = self.entries.lock();
        let (space, at) = entries.get(uid)?;
        (at.elapsed() < max_age).then(|| space.clone())
    }

    pub(crate) fn insert(&self, uid: String, space: String) {
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(uid, (space, Instant::now()));
    }

    /// Forgets a deleted experiment (its uid could be used again, in another space).
    pub(crate) fn remove(&self, uid: &str) {
        self.entries.lock().remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_remembered_until_cleared() {
        let cache = Principals::default();
        let ana = Principal::new("ana".into(), false, []);
        assert!(cache.get("h").is_none());
        cache.insert("h".into(), ana.clone());
        assert_eq!(cache.get("h"), Some(ana));
        cache.clear();
        assert!(cache.get("h").is_none());
    }

    #[test]
    fn spaces_are_remembered_for_a_while_and_forgotten_on_delete() {
        let spaces = Spaces::default();
        spaces.insert("u".into(), "team".into());
        assert_eq!(spaces.get("u").as_deref(), Some("team"));
        assert!(
            spaces.get_within("u", Duration::ZERO).is_none(),
            "an old entry is looked up again"
        );
        spaces.remove("u");
        assert!(spaces.get("u").is_none());
    }
}
