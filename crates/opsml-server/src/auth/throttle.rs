//! Guessing passwords one username at a time is slowed down: after a few failed logins in a
//! row, that username's logins are refused for a while, whether the user exists or not (so
//! the refusal tells nothing). Each server keeps its own count.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Failed logins in a row that lock a username.
pub(crate) const MAX_FAILURES: u32 = 5;
/// How long a lock lasts at first; each further failure after it doubles it.
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_mins(15);
/// Usernames tracked at most; when full, those no longer locked are forgotten, then the
/// one whose lock ends first.
const MAX_TRACKED: usize = 10_000;
/// Longer usernames are tracked by their first this many bytes (no user has a name that
/// long), so that guesses cannot fill the memory with names.
const MAX_NAME_BYTES: usize = 256;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

/// Failed logins per username.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// How long `username` must wait before trying again, if it must.
    pub(crate) fn wait(&self, username: &str, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock();
        let until = failures.get(tracked(username))?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a failed login; a username at [`MAX_FAILURES`] or more is locked.
    pub(crate) fn failed(&self, username: &str, now: Instant) {
        let username = tracked(username);
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_TRACKED && !failures.contains_key(username) {
            failures.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
            if failures.len() >= MAX_TRACKED {
                let first_free = failures
                    .iter()
                    .min_by_key(|(_, f)| f.locked_until)
                    .map(|(name, _)| name.clone());
                if let Some(name) = first_free {
                    failures.remove(&name);
                }
            }
        }
        let entry = failures.entry(username.to_owned()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        entry.count += 1;
        if entry.count >= MAX_FAILURES {
            let doublings = (entry.count - MAX_FAILURES).min(16);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
            entry.locked_until = Some(now + lock);
        }
    }

    /// Forgets the failures of `username`: it logged in.
    pub(crate) fn succeeded(&self, username: &str) {
        self.failures.lock().remove(tracked(username));
    }
}

/// The part of `username` tracked.
fn tracked(username: &str) -> &str {
    let mut end = username.len().min(MAX_NAME_BYTES);
    while !username.is_char_boundary(end) {
        end -= 1;
    }
    &username[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_locked_after_failures_in_a_row_for_longer_each_time() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.failed("ann", start);
            assert_eq!(throttle.wait("ann", start), None);
        }
        throttle.failed("ann", start);
        assert_eq!(throttle.wait("ann", start), Some(FIRST_LOCK));
        assert_eq!(throttle.wait("bob", start), None, "others are not locked");

        let later = start + FIRST_LOCK;
        assert_eq!(throttle.wait("ann", later), None, "the lock ends");
        throttle.failed("ann", later);
        assert_eq!(throttle.wait("ann", later), Some(FIRST_LOCK * 2));
        for _ in 0..20 {
            throttle.failed("ann", later);
        }
        assert_eq!(throttle.wait("ann", later), Some(MAX_LOCK));

        throttle.succeeded("ann");
        assert_eq!(throttle.wait("ann", later), None);
    }

    #[test]
    fn tracking_is_bounded_and_keeps_the_locked_usernames() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            throttle.failed("target", now);
        }
        for n in 0..MAX_TRACKED {
            throttle.failed(&format!("user{n}"), now);
        }
        assert!(throttle.failures.lock().len() <= MAX_TRACKED);
        assert!(throttle.wait("target", now).is_some());

        // Full of locked names: a new one still gets tracked, in place of the lock that
        // ends first.
        let later = now + Duration::from_secs(1);
        for n in 0..MAX_TRACKED {
            for _ in 0..MAX_FAILURES {
                throttle.failed(&format!("locked{n}"), later);
            }
        }
        for _ in 0..MAX_FAILURES {
            throttle.failed("newcomer", later);
        }
        assert!(throttle.failures.lock().len() <= MAX_TRACKED);
        assert!(throttle.wait("newcomer", later).is_some());

        let long = "é".repeat(MAX_NAME_BYTES);
        for _ in 0..MAX_FAILURES {
            throttle.failed(&format!("{long}a"), later);
        }
        assert!(
            throttle.wait(&format!("{long}b"), later).is_some(),
            "tracked by a prefix"
        );
        assert!(throttle
            .failures
            .lock()
            .keys()
            .all(|k| k.len() <= MAX_NAME_BYTES));
    }
}
