//! Work spread over the machine's cores: what takes long and splits into
//! independent parts (checking each function body) is done on as many
//! threads as there are cores. The outcome never depends on how many
//! threads there are or how the work was split between them.

use std::sync::OnceLock;

/// How many threads to use for `parts` independent parts of some work: one
/// per core, never more than there are parts.
pub(crate) fn threads(parts: usize) -> usize {
    // Asking costs system calls (the process's CPU quota is read from its
    // cgroup), so it is asked once.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    cores.min(parts)
}
