//! The logger component: writes log lines to stderr, the one capability its
//! world imports.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::fmt::Write as _;

use bindings::exports::nanoproc::logger::log::{Guest, Level};
use bindings::wasi::cli::stderr::get_stderr;

/// WASI streams accept at most this many bytes per blocking write.
const MAX_WRITE: usize = 4096;

struct Logger;

impl Guest for Logger {
    fn log(level: Level, target: String, message: String) {
        let level = match level {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        };
        let mut line = String::with_capacity(level.len() + target.len() + message.len() + 8);
        let _ = write!(line, "{level:<5} [");
        escape_into(&mut line, &target);
        line.push_str("] ");
        escape_into(&mut line, &message);
        line.push('\n');

        let stderr = get_stderr();
        for chunk in line.as_bytes().chunks(MAX_WRITE) {
            // A closed stderr loses the line; logging never fails the caller.
            if stderr.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
}

/// Appends `text`, with control characters (line breaks among them) escaped.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

bindings::export!(Logger with_types_in bindings);
