//! The snoop component: a dependency that reaches through Rust's standard
//! library for files, environment variables and the network, none of which
//! its world declares. The tests show it gets nothing the app's owner did
//! not grant it, even where another component of the same app holds a grant.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::io::{Read as _, Write as _};

use bindings::exports::nanoproc::hostile::snooping::Guest;

struct Snoop;

impl Guest for Snoop {
    fn read_file(path: String) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }

    fn list_dir(path: String) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn variables() -> Vec<String> {
        std::env::vars_os()
            .map(|(name, value)| format!("{}={}", name.to_string_lossy(), value.to_string_lossy()))
            .collect()
    }

    fn connect(address: String) -> Result<(), String> {
        std::net::TcpStream::connect(address.as_str())
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn print(text: String) -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())
    }

    fn eprint(text: String) -> Result<(), String> {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes())
            .and_then(|()| err.flush())
            .map_err(|e| e.to_string())
    }

    fn read_stdin() -> Result<String, String> {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map(|_| text)
            .map_err(|e| e.to_string())
    }

    fn unix_time() -> Result<u64, String> {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|e| e.to_string())
    }

    fn sleep(ms: u32) -> u64 {
        let start = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(ms.into()));
        start.elapsed().as_millis() as u64
    }
}

bindings::export!(Snoop with_types_in bindings);
