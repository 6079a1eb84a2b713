//! Forks. A child process inherits its parent's memory but not its threads,
//! and must not use its parent's database connections: everything that is
//! per process (the runtime, the store cache, the lease) is tied to the fork
//! generation (`opsml_process`) that the child bumps right after the fork, and
//! process-wide locks that a vanished thread may have held are released.

/// To be called in a child process right after `fork` (the Python front
/// registers it with `os.register_at_fork`). The child then opens its own
/// stores and runtime, and leaves the parent's experiments alone.
pub fn after_fork_in_child() {
    opsml_process::after_fork_in_child();
    opsml_store::after_fork_in_child();
    crate::stores::reset_after_fork();
    crate::artifacts::reset_after_fork();
}
