//! Small helpers for the programs built on the linker: the `nanoproc`
//! command, the host and the xtask all depend on this crate, so what they
//! share lives here. The linker's own stages call none of them.

use std::path::Path;

use anyhow::{Context as _, Result};

/// Writes `bytes` to `path` through a temporary file beside it, so that a
/// failure leaves no partial output (and an earlier file there as it was).
///
/// # Errors
///
/// When the temporary file cannot be written or renamed to `path`; the
/// message names `path` and its directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    // Named after the process, so that two commands writing the same file
    // do not write into one temporary file.
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or("out".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| {
        format!(
            "cannot write {}{}",
            path.display(),
            dir.map_or(String::new(), |d| format!(" (in {})", d.display()))
        )
    })
}

/// `bytes` for people, in the largest binary unit that keeps it at least 1:
/// `512 bytes`, `1.5 KiB`, `64 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_the_largest_unit_that_keeps_them_at_least_1() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(23_962), "23.4 KiB");
        assert_eq!(human_size(3 << 30), "3 GiB");
        assert_eq!(human_size(5 << 40), "5120 GiB");
    }
}
