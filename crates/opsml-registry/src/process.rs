//! Forks. A child process inherits its parent's memory but not its threads,
//! and must not use its parent's database connections: everything that is
//! per process (the runtime, the store cache, the lease) is tied to a fork
//! generation that the child bumps right after the fork, and process-wide
//! locks that a vanished thread may have held are released.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Threads inside SQLite now, and whether a fork waits for them to leave.
/// SQLite's own global mutexes must not be copied into a child while another
/// thread holds them, or the child's first SQLite call hangs for ever.
static INSIDE_SQLITE: AtomicUsize = AtomicUsize::new(0);
static FORKING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Nesting depth of this thread inside SQLite.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// The fork generation of this process: 0 in the original process, changed
/// in each child by [`after_fork_in_child`].
pub fn fork_generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Marks the current thread inside SQLite until dropped.
pub(crate) struct InsideSqlite(());

/// Enters SQLite, waiting while a fork is under way. Nested entries by the
/// same thread never wait (the fork is waiting for the outer one to end).
pub(crate) fn sqlite_gate() -> InsideSqlite {
    if DEPTH.with(Cell::get) == 0 {
        loop {
            while FORKING.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_micros(200));
            }
            INSIDE_SQLITE.fetch_add(1, Ordering::SeqCst);
            if !FORKING.load(Ordering::SeqCst) {
                break;
            }
            INSIDE_SQLITE.fetch_sub(1, Ordering::SeqCst);
        }
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    InsideSqlite(())
}

impl Drop for InsideSqlite {
    fn drop(&mut self) {
        let depth = DEPTH.with(|d| {
            d.set(d.get() - 1);
            d.get()
        });
        if depth == 0 {
            INSIDE_SQLITE.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// To be called in the parent right before `fork`: waits until no thread is
/// inside SQLite and keeps them out until [`after_fork_in_parent`].
pub fn before_fork() {
    FORKING.store(true, Ordering::SeqCst);
    while INSIDE_SQLITE.load(Ordering::SeqCst) > 0 {
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// To be called in the parent right after `fork`.
pub fn after_fork_in_parent() {
    FORKING.store(false, Ordering::SeqCst);
}

/// To be called in a child process right after `fork` (the Python front
/// registers it with `os.register_at_fork`). The child then opens its own
/// stores and runtime, and leaves the parent's experiments alone.
pub fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    // The threads that were counted do not exist in the child.
    INSIDE_SQLITE.store(0, Ordering::SeqCst);
    FORKING.store(false, Ordering::SeqCst);
    crate::runtime::reset_after_fork();
    crate::stores::reset_after_fork();
    crate::artifacts::reset_after_fork();
    crate::lease::reset_after_fork();
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
