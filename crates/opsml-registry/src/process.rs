//! Forks. A child process inherits its parent's memory but not its threads,
//! and must not use its parent's database connections: everything that is
//! per process (the runtime, the store cache, the lease) is tied to a fork
//! generation that the child bumps right after the fork.

use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The fork generation of this process: 0 in the original process, changed
/// in each child by [`after_fork_in_child`].
pub fn fork_generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// To be called in a child process right after `fork` (the Python front
/// registers it with `os.register_at_fork`). The child then opens its own
/// stores and runtime, and leaves the parent's experiments alone.
pub fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}
