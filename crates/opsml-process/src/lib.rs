//! What every opsml crate shares per process, and so lies below all of them: the fork
//! generation that per-process state is tied to, locks made usable again in a forked child,
//! and the one tokio runtime (storage requests, the HTTP client, background writers and
//! samplers all run on it).
//!
//! A child process inherits its parent's memory but not its threads. Each crate that keeps
//! per-process state offers an `after_fork_in_child` that first calls the one of the crate
//! below it and then resets its own, down to [`after_fork_in_child`] here.

mod fork;
mod runtime;

pub use fork::{after_fork_in_child, fork_generation, reset_after_fork};
pub use runtime::runtime;
