//! The `manifest` target: app manifest text, arbitrary or one of the
//! project's own manifests mutated, never panics the parser, and every
//! error it reports has a line and column inside the text.

use arbitrary::{Result, Unstructured};
use nanoproc_linker::Manifest;

/// Pieces of manifest syntax that mutations insert or swap for each other:
/// TOML's punctuation, the manifest's keys and values, and values at the
/// edges of their types.
pub const TOKENS: &[&str] = &[
    "[app]\n",
    "[components.",
    "[components.a]\nguest = \"a\"\n",
    "[components.b.grants]\n",
    "[limits]\n",
    "[[components]]\n",
    "[",
    "]",
    "{",
    "}",
    "{ }",
    "[]",
    "=",
    " = ",
    ",",
    ".",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "\\",
    "\\u0000",
    "\\U0010FFFF",
    "\\ud800",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "\u{0}",
    "\u{feff}",
    "é",
    "🦀",
    "name",
    "export",
    "strict",
    "guest",
    "path",
    "wire",
    "grants",
    "stdin",
    "stdout",
    "stderr",
    "clocks",
    "random",
    "exit",
    "env",
    "args",
    "dirs",
    "network",
    "host",
    "mode",
    "\"read-only\"",
    "\"read-write\"",
    "memory",
    "timeout-ms",
    "tables",
    "instances",
    "true",
    "false",
    "0",
    "-1",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "nan",
    "-inf",
    "0x7f",
    "1979-05-27T07:32:00Z",
    "\"markdown\"",
    "\"Markdown\"",
    "\"json-\"",
    "\"nanoproc:markdown/render\" = \"markdown\"",
    "\"nanoproc:markdown/render@0.1.0\"",
    "\"wasi:cli/stderr@0.2.12\"",
    "\"127.0.0.1:8080\"",
    "\"[::1]:80\"",
    "\"example.com:0\"",
    "\":443\"",
    "\"x.wasm\"",
    "{ host = \"out\", guest = \"/out\", mode = \"read-write\" }",
];

/// Parses arbitrary text, or one of the project's manifests mutated, as
/// [`check`] does.
///
/// # Errors
///
/// When `u` runs out of bytes before the input is made.
pub fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let text = if super::chance(u, 1, 4)? {
        u.arbitrary::<&str>()?.to_string()
    } else {
        let manifests = super::real_manifests();
        let mut text = manifests[u.choose_index(manifests.len())?].1.clone();
        super::mutate::text(u, &mut text, TOKENS)?;
        text
    };
    check(&text);
    Ok(())
}

/// Parses `text` as a manifest.
///
/// # Panics
///
/// When parsing panics, when an error has no line and column or one that
/// is not in `text`, or when a manifest that parses points outside itself.
pub fn check(text: &str) {
    match Manifest::parse("fuzz.toml", text) {
        Err(e) => {
            let Some(location) = &e.location else {
                panic!("the error `{e}` has no location; the manifest:\n{text}");
            };
            let (line, column) = (location.line, location.column);
            assert!(
                text.get(location.span.clone()).is_some(),
                "the error `{e}` marks bytes {:?}, not in the manifest:\n{text}",
                location.span
            );
            // Showing it with the manifest's line works on any input.
            let _ = nanoproc_linker::report_any(&e, false);
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(
                line >= 1 && line <= lines.len(),
                "the error `{e}` is on line {line} of {}; the manifest:\n{text}",
                lines.len()
            );
            let width = lines[line - 1].chars().count();
            assert!(
                column >= 1 && column <= width + 1,
                "the error `{e}` is in column {column} of a line of {width} characters; \
                 the manifest:\n{text}"
            );
        }
        Ok(manifest) => {
            let _ = manifest.name();
            for place in manifest.places() {
                assert!(
                    text.get(place.span.clone()).is_some(),
                    "{place} (bytes {:?}) is not in the manifest:\n{text}",
                    place.span
                );
            }
        }
    }
}
