//! The store tests' helpers (opsml-store's own, included from there) and what only the
//! registry's tests use.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops at the first thing that is not as it should be"
)]
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

#[path = "../../../opsml-store/tests/common/mod.rs"]
mod store;

pub(crate) use store::*;

impl TestStore {
    /// Sets an experiment's heartbeat behind the store's back, as a process that stopped
    /// beating long ago would have left it.
    pub(crate) fn set_heartbeat(&self, uid: &str, micros: i64) {
        let sql = format!("UPDATE experiments SET heartbeat_at = {micros} WHERE uid = '{uid}'");
        self.execute(&sql, &sql);
    }
}

/// The database of `OPSML_TEST_POSTGRES_URI`; `None` (after saying so) when it is not set,
/// unless `OPSML_REQUIRE_SERVICES=1` asks for every service, which makes it a failure.
#[allow(clippy::print_stderr)] // a skipped test says why in its output
pub(crate) fn postgres_uri() -> Option<String> {
    match std::env::var("OPSML_TEST_POSTGRES_URI") {
        Ok(uri) if !uri.is_empty() => Some(uri),
        _ => {
            assert!(
                std::env::var("OPSML_REQUIRE_SERVICES").map_or(true, |v| v != "1"),
                "OPSML_REQUIRE_SERVICES=1 but OPSML_TEST_POSTGRES_URI is not set \
                 (scripts/start-postgres.sh prints it)"
            );
            eprintln!("skipped: OPSML_TEST_POSTGRES_URI is not set (scripts/start-postgres.sh)");
            None
        }
    }
}
