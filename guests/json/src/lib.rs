//! The json component: serde_json behind `nanoproc:json/document`.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::json::document::{Guest, QueryError, SyntaxError};
use serde::Serialize as _;
use serde_json::Value;

struct Json;

impl Guest for Json {
    fn validate(text: String) -> Result<(), SyntaxError> {
        parse(&text).map(drop)
    }

    fn pretty(text: String, indent: u8) -> Result<String, SyntaxError> {
        let value = parse(&text)?;
        let indent = vec![b' '; usize::from(indent)];
        let mut out = Vec::with_capacity(text.len() * 2);
        let formatter = serde_json::ser::PrettyFormatter::with_indent(&indent);
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        value
            .serialize(&mut serializer)
            .expect("serializing a parsed value into memory cannot fail");
        Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
    }

    fn minify(text: String) -> Result<String, SyntaxError> {
        Ok(parse(&text)?.to_string())
    }

    fn query(text: String, pointer: String) -> Result<Option<String>, QueryError> {
        lookup(&text, pointer, Value::to_string)
    }

    fn query_text(text: String, pointer: String) -> Result<Option<String>, QueryError> {
        lookup(&text, pointer, |value| match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

/// The value at JSON Pointer `pointer` in `text`, rendered by `render`.
fn lookup(
    text: &str,
    pointer: String,
    render: impl Fn(&Value) -> String,
) -> Result<Option<String>, QueryError> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(QueryError::InvalidPointer(pointer));
    }
    let value = parse(text).map_err(QueryError::Syntax)?;
    Ok(value.pointer(&pointer).map(render))
}

fn parse(text: &str) -> Result<Value, SyntaxError> {
    serde_json::from_str(text).map_err(|e| SyntaxError {
        message: e.to_string(),
        line: u32::try_from(e.line()).unwrap_or(u32::MAX),
        column: u32::try_from(e.column()).unwrap_or(u32::MAX),
    })
}

bindings::export!(Json with_types_in bindings);
