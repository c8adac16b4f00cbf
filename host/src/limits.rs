//! The limits of one instance of an app: memory, tables and core instances,
//! enforced by wasmtime as the app grows (a [`ResourceLimiter`]); the time
//! limit is the epoch deadline the app sets before each call.

use std::fmt;

use nanoproc_linker::{Limits, human_size as human};
use wasmtime::ResourceLimiter;

/// Memory an app may hold when its manifest sets no limit: 1 GiB.
pub const DEFAULT_MEMORY: u64 = 1 << 30;

/// How much of its limits one instance has used.
#[derive(Debug)]
pub struct Budget {
    memory_limit: u64,
    memory_used: u64,
    tables: usize,
    instances: usize,
}

impl Budget {
    /// The budget of an instance limited by `limits`; what they leave open
    /// is bounded by [`DEFAULT_MEMORY`] and the engine's pool.
    pub fn new(limits: &Limits) -> Self {
        let count = |n: Option<u32>| n.map_or(usize::MAX, |n| n as usize);
        Self {
            memory_limit: limits.memory.unwrap_or(DEFAULT_MEMORY),
            memory_used: 0,
            tables: count(limits.tables),
            instances: count(limits.instances),
        }
    }

    /// Bytes of linear memory all the instance's memories hold together.
    pub fn memory_used(&self) -> u64 {
        self.memory_used
    }
}

/// A memory grow refused because the app would hold more than its limit.
/// It ends the call as a trap, so that the caller learns why, rather than
/// leaving a guest to guess at a failed allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLimitExceeded {
    /// The app's memory limit in bytes.
    pub limit: u64,
    /// Bytes all its memories held before the grow.
    pub used: u64,
    /// Bytes the grow asked for.
    pub requested: u64,
}

impl fmt::Display for MemoryLimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the app's memory limit of {} would be exceeded: {} more asked for, {} in use",
            human(self.limit),
            human(self.requested),
            human(self.used)
        )
    }
}

impl std::error::Error for MemoryLimitExceeded {}

impl ResourceLimiter for Budget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let requested = (desired - current) as u64;
        let total = self.memory_used.saturating_add(requested);
        if total > self.memory_limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory_limit,
                used: self.memory_used,
                requested,
            }));
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Table elements are bounded by the engine's pool.
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        usize::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_counts_every_memory_together() {
        let mut budget = Budget::new(&Limits {
            memory: Some(3 << 20),
            ..Limits::default()
        });
        assert!(budget.memory_growing(0, 1 << 20, None).unwrap());
        assert!(budget.memory_growing(0, 2 << 20, None).unwrap());
        let refused = budget.memory_growing(1 << 20, 1 << 21, None).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the app's memory limit of 3 MiB would be exceeded: 1 MiB more asked for, 3 MiB in use"
        );
        assert_eq!(budget.memory_used(), 3 << 20);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(512), "512 bytes");
        assert_eq!(human(64 << 20), "64 MiB");
        assert_eq!(human(1536), "1.5 KiB");
    }
}
