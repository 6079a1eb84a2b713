//! SQLite's own locks kept out of a fork: a fork waits until no thread is inside
//! SQLite, and the child starts with none counted.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Threads inside SQLite now, and whether a fork waits for them to leave.
/// SQLite's own global mutexes must not be copied into a child while another
/// thread holds them, or the child's first SQLite call hangs for ever.
static INSIDE_SQLITE: AtomicUsize = AtomicUsize::new(0);
static FORKING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Nesting depth of this thread inside SQLite.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
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

/// To be called in a child process right after `fork`, after
/// `opsml_process::after_fork_in_child`: the threads that were counted inside SQLite do not
/// exist in the child, and the lease of this process is its own.
pub fn after_fork_in_child() {
    INSIDE_SQLITE.store(0, Ordering::SeqCst);
    FORKING.store(false, Ordering::SeqCst);
    crate::lease::reset_after_fork();
}
