//! Short-lived memory of the server, so that a client's stream of batches does not repeat
//! the same lookups: who a token belongs to, and which space an experiment is in. Servers
//! still share nothing: an entry is a copy of what the database said a moment ago.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::Principal;

/// How long a token's user and grants are trusted before they are read again. A change made
/// through another server (a revoked token, a removed grant, a disabled user) reaches this
/// one within this time; one made through this server takes effect at once.
pub(crate) const PRINCIPAL_TTL: Duration = Duration::from_secs(10);

/// Entries kept at most; a full cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// A token's principal as read, with when it was read and when the token expires.
#[derive(Debug)]
struct Entry {
    principal: Principal,
    read_at: Instant,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Entries {
    by_token_hash: HashMap<String, Entry>,
    /// Counts the forgettings: a lookup that began before one may not insert what it read,
    /// which may be what was just revoked.
    generation: u64,
}

/// Principals by token hash.
#[derive(Debug, Default)]
pub(crate) struct Principals {
    entries: Mutex<Entries>,
}

impl Principals {
    /// The principal of a token, if it was read less than [`PRINCIPAL_TTL`] ago and the
    /// token has not expired since.
    pub(crate) fn get(&self, token_hash: &str) -> Option<Principal> {
        self.get_at(token_hash, Instant::now(), Utc::now())
    }

    fn get_at(&self, token_hash: &str, now: Instant, wall: DateTime<Utc>) -> Option<Principal> {
        let mut entries = self.entries.lock();
        let entry = entries.by_token_hash.get(token_hash)?;
        if now.saturating_duration_since(entry.read_at) < PRINCIPAL_TTL && entry.expires_at > wall {
            return Some(entry.principal.clone());
        }
        entries.by_token_hash.remove(token_hash);
        None
    }

    /// What to hand [`Principals::insert`] after looking a token up: taken before the lookup.
    pub(crate) fn generation(&self) -> u64 {
        self.entries.lock().generation
    }

    /// Keeps the principal of a token valid until `expires_at`, read by a lookup that began
    /// at `generation`; dropped if something was forgotten since, for it may be stale.
    pub(crate) fn insert(
        &self,
        token_hash: String,
        principal: Principal,
        expires_at: DateTime<Utc>,
        generation: u64,
    ) {
        let mut entries = self.entries.lock();
        if entries.generation != generation {
            return;
        }
        if entries.by_token_hash.len() >= MAX_ENTRIES {
            entries.by_token_hash.clear();
        }
        let entry = Entry {
            principal,
            read_at: Instant::now(),
            expires_at,
        };
        entries.by_token_hash.insert(token_hash, entry);
    }

    /// Forgets one token: it was revoked.
    pub(crate) fn remove(&self, token_hash: &str) {
        let mut entries = self.entries.lock();
        entries.generation += 1;
        entries.by_token_hash.remove(token_hash);
    }

    /// Forgets everything: users, grants or tokens changed.
    pub(crate) fn clear(&self) {
        let mut entries = self.entries.lock();
        entries.generation += 1;
        entries.by_token_hash.clear();
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

    fn in_an_hour() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::hours(1)
    }

    #[test]
    fn principals_are_remembered_until_cleared_or_removed() {
        let cache = Principals::default();
        let ana = Principal::new("ana".into(), false, []);
        assert!(cache.get("h").is_none());
        cache.insert("h".into(), ana.clone(), in_an_hour(), cache.generation());
        cache.insert("i".into(), ana.clone(), in_an_hour(), cache.generation());
        assert_eq!(cache.get("h"), Some(ana.clone()));
        cache.remove("h");
        assert!(cache.get("h").is_none());
        assert_eq!(cache.get("i"), Some(ana));
        cache.clear();
        assert!(cache.get("i").is_none());
    }

    #[test]
    fn a_principal_is_not_kept_past_its_token_or_its_time() {
        let cache = Principals::default();
        let ana = Principal::new("ana".into(), false, []);
        let expires_at = Utc::now() + chrono::Duration::seconds(2);
        cache.insert("h".into(), ana.clone(), expires_at, cache.generation());
        let now = Instant::now();
        assert_eq!(
            cache.get_at("h", now, expires_at - chrono::Duration::milliseconds(1)),
            Some(ana)
        );
        assert!(
            cache.get_at("h", now, expires_at).is_none(),
            "the token expired"
        );
        assert!(
            cache.entries.lock().by_token_hash.is_empty(),
            "and is forgotten"
        );

        let ana = Principal::new("ana".into(), false, []);
        cache.insert("h".into(), ana, in_an_hour(), cache.generation());
        let later = Instant::now() + PRINCIPAL_TTL;
        assert!(
            cache.get_at("h", later, Utc::now()).is_none(),
            "read too long ago"
        );
    }

    #[test]
    fn a_lookup_under_way_when_a_token_is_revoked_does_not_cache_it() {
        let cache = Principals::default();
        let ana = Principal::new("ana".into(), false, []);
        let before = cache.generation();
        cache.remove("h");
        cache.insert("h".into(), ana.clone(), in_an_hour(), before);
        assert!(cache.get("h").is_none());
        cache.insert("h".into(), ana.clone(), in_an_hour(), cache.generation());
        assert_eq!(cache.get("h"), Some(ana));
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
