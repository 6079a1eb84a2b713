//! Guessing passwords is slowed down. After a few failed logins in a row of one username
//! from one address, that username's logins from that address are refused for a while,
//! whether the user exists or not (so the refusal tells nothing); the user can still log in
//! from elsewhere, so a stranger cannot lock it out. Guesses spread over many addresses meet
//! a much higher bound per username, which locks it everywhere. Each server keeps its own
//! counts.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Failed logins in a row of a username from one address that lock it there.
pub(crate) const MAX_FAILURES: u32 = 5;
/// Failed logins in a row of a username from anywhere that lock it everywhere.
pub(crate) const MAX_FAILURES_ANYWHERE: u32 = 100;
/// How long a lock lasts at first; each further failure after it doubles it.
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_mins(15);
/// Keys tracked at most per count; when full, those no longer locked are forgotten, then
/// the one whose lock ends first.
const MAX_TRACKED: usize = 10_000;
/// Longer usernames are tracked by their first this many bytes (no user has a name that
/// long), so that guesses cannot fill the memory with names.
const MAX_NAME_BYTES: usize = 256;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

/// Failed logins in a row by key, locking a key at `threshold` of them.
#[derive(Debug)]
struct Counts<K> {
    failures: HashMap<K, Failures>,
    threshold: u32,
}

impl<K: Eq + Hash + Clone> Counts<K> {
    fn new(threshold: u32) -> Self {
        Self {
            failures: HashMap::new(),
            threshold,
        }
    }

    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.failures.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    fn failed(&mut self, key: &K, now: Instant) {
        if self.failures.len() >= MAX_TRACKED && !self.failures.contains_key(key) {
            self.make_room(now);
        }
        let entry = self.failures.entry(key.clone()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        entry.count += 1;
        if entry.count >= self.threshold {
            let doublings = (entry.count - self.threshold).min(16);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
            entry.locked_until = Some(now + lock);
        }
    }

    /// Forgets the keys no longer locked, or else the one whose lock ends first.
    fn make_room(&mut self, now: Instant) {
        self.failures
            .retain(|_, f| f.locked_until.is_some_and(|until| until > now));
        if self.failures.len() >= MAX_TRACKED {
            let first_free = self
                .failures
                .iter()
                .min_by_key(|(_, f)| f.locked_until)
                .map(|(key, _)| key.clone());
            if let Some(key) = first_free {
                self.failures.remove(&key);
            }
        }
    }

    fn succeeded(&mut self, key: &K) {
        self.failures.remove(key);
    }
}

/// Failed logins per username and address, and per username.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    from_address: Mutex<Counts<(String, IpAddr)>>,
    anywhere: Mutex<Counts<String>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            from_address: Mutex::new(Counts::new(MAX_FAILURES)),
            anywhere: Mutex::new(Counts::new(MAX_FAILURES_ANYWHERE)),
        }
    }
}

impl LoginThrottle {
    /// How long `username` must wait before trying again from `address`, if it must.
    pub(crate) fn wait(&self, username: &str, address: IpAddr, now: Instant) -> Option<Duration> {
        let name = tracked(username);
        let here = self
            .from_address
            .lock()
            .wait(&(name.clone(), source(address)), now);
        let everywhere = self.anywhere.lock().wait(&name, now);
        here.max(everywhere)
    }

    /// Counts a failed login of `username` from `address`.
    pub(crate) fn failed(&self, username: &str, address: IpAddr, now: Instant) {
        let name = tracked(username);
        self.from_address
            .lock()
            .failed(&(name.clone(), source(address)), now);
        self.anywhere.lock().failed(&name, now);
    }

    /// Forgets the failures of `username`: it logged in from `address`, so they were its
    /// own mistakes, or guesses that did not find the password.
    pub(crate) fn succeeded(&self, username: &str, address: IpAddr) {
        let name = tracked(username);
        self.from_address
            .lock()
            .succeeded(&(name.clone(), source(address)));
        self.anywhere.lock().succeeded(&name);
    }
}

/// The part of `username` tracked.
fn tracked(username: &str) -> String {
    let mut end = username.len().min(MAX_NAME_BYTES);
    while !username.is_char_boundary(end) {
        end -= 1;
    }
    username[..end].to_owned()
}

/// Where a login comes from, as counted: an IPv4 address (also one mapped into IPv6), or
/// the /64 network of an IPv6 address, since a single host commonly has a whole /64.
fn source(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    const HERE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const THERE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn address(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn a_username_is_locked_after_failures_in_a_row_for_longer_each_time() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.failed("ann", HERE, start);
            assert_eq!(throttle.wait("ann", HERE, start), None);
        }
        throttle.failed("ann", HERE, start);
        assert_eq!(throttle.wait("ann", HERE, start), Some(FIRST_LOCK));
        assert_eq!(
            throttle.wait("bob", HERE, start),
            None,
            "others are not locked"
        );

        let later = start + FIRST_LOCK;
        assert_eq!(throttle.wait("ann", HERE, later), None, "the lock ends");
        throttle.failed("ann", HERE, later);
        assert_eq!(throttle.wait("ann", HERE, later), Some(FIRST_LOCK * 2));
        for _ in 0..20 {
            throttle.failed("ann", HERE, later);
        }
        assert_eq!(throttle.wait("ann", HERE, later), Some(MAX_LOCK));

        throttle.succeeded("ann", HERE);
        assert_eq!(throttle.wait("ann", HERE, later), None);
    }

    #[test]
    fn failures_from_one_address_do_not_lock_the_username_elsewhere() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES * 3 {
            throttle.failed("root", HERE, now);
        }
        assert!(throttle.wait("root", HERE, now).is_some());
        assert_eq!(throttle.wait("root", THERE, now), None);
        // Logging in elsewhere clears the count there and everywhere, not the lock here.
        throttle.succeeded("root", THERE);
        assert!(throttle.wait("root", HERE, now).is_some());
    }

    #[test]
    fn guesses_spread_over_many_addresses_lock_the_username_everywhere() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        // Each address stays below its own bound.
        let per_address = MAX_FAILURES - 1;
        for guess in 0..MAX_FAILURES_ANYWHERE - 1 {
            throttle.failed("root", address(guess / per_address), now);
        }
        let fresh = address(10_000);
        assert_eq!(throttle.wait("root", fresh, now), None, "below the bound");
        throttle.failed("root", address(9_999), now);
        assert_eq!(throttle.wait("root", fresh, now), Some(FIRST_LOCK));
        assert_eq!(throttle.wait("ann", fresh, now), None);
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_network() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_network: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source(one), source(same_network));
        assert_ne!(source(one), source(other));
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(source(mapped), HERE);
        assert_eq!(
            source(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn tracking_is_bounded_and_keeps_the_locked_usernames() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            throttle.failed("target", HERE, now);
        }
        for n in 0..MAX_TRACKED {
            throttle.failed(&format!("user{n}"), HERE, now);
        }
        assert!(throttle.from_address.lock().failures.len() <= MAX_TRACKED);
        assert!(throttle.anywhere.lock().failures.len() <= MAX_TRACKED);
        assert!(throttle.wait("target", HERE, now).is_some());

        // Full of locked names: a new one still gets tracked, in place of the lock that
        // ends first.
        let later = now + Duration::from_secs(1);
        for n in 0..MAX_TRACKED {
            for _ in 0..MAX_FAILURES {
                throttle.failed(&format!("locked{n}"), HERE, later);
            }
        }
        for _ in 0..MAX_FAILURES {
            throttle.failed("newcomer", HERE, later);
        }
        assert!(throttle.from_address.lock().failures.len() <= MAX_TRACKED);
        assert!(throttle.wait("newcomer", HERE, later).is_some());

        let long = "é".repeat(MAX_NAME_BYTES);
        for _ in 0..MAX_FAILURES {
            throttle.failed(&format!("{long}a"), HERE, later);
        }
        assert!(
            throttle.wait(&format!("{long}b"), HERE, later).is_some(),
            "tracked by a prefix"
        );
        assert!(throttle
            .from_address
            .lock()
            .failures
            .keys()
            .all(|(k, _)| k.len() <= MAX_NAME_BYTES));
    }
}
