//! Fork generations: 0 in the original process, changed in each child right after the fork,
//! so that what belongs to a process (its runtime, its store connections, its lease) is made
//! again in a child rather than shared with the parent.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The fork generation of this process: 0 in the original process, changed in each child
/// by [`after_fork_in_child`].
pub fn fork_generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// To be called in a child process right after `fork`, before anything else of opsml runs
/// there: starts a new generation and forgets the parent's runtime.
pub fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    crate::runtime::reset_after_fork();
}

/// Makes a process-wide mutex usable again in a forked child and empties it.
/// Only the forking thread exists in the child: a lock held by any other
/// parent thread would never be released, and what it guarded may have been
/// half changed, so the old value is leaked rather than dropped or read.
pub fn reset_after_fork<T: Default>(mutex: &Mutex<T>) {
    if mutex.is_locked() {
        // SAFETY: called right after fork, with no other thread in this
        // process; the owner of the lock does not exist here and cannot
        // release it, nor touch the value, ever again.
        #[allow(unsafe_code)]
        unsafe {
            mutex.force_unlock(parking_lot::lock_api::GuardNoSend::new());
        }
    }
    std::mem::forget(std::mem::take(&mut *mutex.lock()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_mutex_is_unlocked_and_empty() {
        let mutex = Mutex::new(vec![1, 2, 3]);
        // A guard never dropped: as a thread that vanished in a fork would leave it.
        std::mem::forget(mutex.lock());
        assert!(mutex.is_locked());
        reset_after_fork(&mutex);
        assert!(!mutex.is_locked());
        assert!(mutex.lock().is_empty());
    }
}
