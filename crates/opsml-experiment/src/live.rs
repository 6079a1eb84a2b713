//! The experiments running in this process, so that interpreter exit can end
//! them and readers can flush them before reading.

use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;

use crate::experiment::Inner;

fn live() -> &'static Mutex<Vec<Weak<Inner>>> {
    static LIVE: OnceLock<Mutex<Vec<Weak<Inner>>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// Forgets the parent's experiments in a forked child.
pub(crate) fn reset_after_fork() {
    opsml_registry::reset_after_fork(live());
}

pub(crate) fn register(inner: &Arc<Inner>) {
    let mut live = live().lock();
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(inner));
}

pub(crate) fn unregister(inner: &Inner) {
    live()
        .lock()
        .retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), inner));
}

/// Running experiments, optionally only those with this uid.
pub(crate) fn running(uid: Option<&str>) -> Vec<Arc<Inner>> {
    live()
        .lock()
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|inner| inner.logs_here() && uid.is_none_or(|uid| inner.uid() == uid))
        .collect()
}
