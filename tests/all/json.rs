//! The json component validates, formats and queries as serde_json does natively.

use nanoproc_tests::{component, engine, store};
use wasmtime::component::Linker;

wasmtime::component::bindgen!({
    path: "../wit/json",
    world: "nanoproc:json/json",
    additional_derives: [PartialEq, Eq],
});

use exports::nanoproc::json::document::{QueryError, SyntaxError};

fn instance() -> (wasmtime::Store<()>, Json) {
    let mut store = store(());
    let json = Json::instantiate(&mut store, &component("json"), &Linker::new(engine())).unwrap();
    (store, json)
}

fn native_error(text: &str) -> SyntaxError {
    let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
    SyntaxError {
        message: e.to_string(),
        line: e.line() as u32,
        column: e.column() as u32,
    }
}

const VALID: &[&str] = &[
    "null",
    "  {\"title\": \"Hello\", \"tags\": [\"a\", \"b\"], \"draft\": false}  ",
    "{\"z\": 1, \"a\": 2, \"m\": {\"y\": [1.5, -2e10, 12345678901234567890123]}}",
    "[\"ünïcödé\", \"\\u00e9\\n\\t\", \"日本\", \"\\ud83d\\ude00\"]",
    "[]",
];

const INVALID: &[&str] = &[
    "",
    "{",
    "[1, 2,]",
    "{\"a\" 1}",
    "\"unterminated",
    "tru",
    "{} {}",
    "[1]\n\n  x",
    "\"\\ud800\"",
];

#[test]
fn valid_documents_validate() {
    let (mut store, json) = instance();
    for text in VALID {
        let result = json
            .nanoproc_json_document()
            .call_validate(&mut store, text)
            .unwrap();
        assert_eq!(result, Ok(()), "input: {text}");
    }
}

#[test]
fn invalid_documents_are_errors_with_serde_json_positions() {
    let (mut store, json) = instance();
    let document = json.nanoproc_json_document();
    for text in INVALID {
        let expected = native_error(text);
        let validated = document.call_validate(&mut store, text).unwrap();
        assert_eq!(validated, Err(expected.clone()), "input: {text:?}");
        let minified = document.call_minify(&mut store, text).unwrap();
        assert_eq!(minified, Err(expected.clone()), "input: {text:?}");
        let pretty = document.call_pretty(&mut store, text, 2).unwrap();
        assert_eq!(pretty, Err(expected), "input: {text:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_trap() {
    let (mut store, json) = instance();
    let text = "[".repeat(100_000);
    let result = json
        .nanoproc_json_document()
        .call_validate(&mut store, &text)
        .unwrap();
    assert_eq!(result, Err(native_error(&text)));
    assert!(result.unwrap_err().message.contains("recursion limit"));
}

#[test]
fn pretty_and_minify_match_serde_json() {
    let (mut store, json) = instance();
    let document = json.nanoproc_json_document();
    for text in VALID {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            document.call_pretty(&mut store, text, 2).unwrap(),
            Ok(serde_json::to_string_pretty(&value).unwrap())
        );
        assert_eq!(
            document.call_minify(&mut store, text).unwrap(),
            Ok(serde_json::to_string(&value).unwrap())
        );
    }
    // Key order and every digit of a number survive formatting.
    assert_eq!(
        document.call_minify(&mut store, VALID[2]).unwrap(),
        Ok(r#"{"z":1,"a":2,"m":{"y":[1.5,-2e+10,12345678901234567890123]}}"#.to_string())
    );
    assert_eq!(
        document.call_pretty(&mut store, "{\"a\":[1]}", 4).unwrap(),
        Ok("{\n    \"a\": [\n        1\n    ]\n}".to_string())
    );
    assert_eq!(
        document.call_pretty(&mut store, "[1]", 0).unwrap(),
        Ok("[\n1\n]".to_string())
    );
}

#[test]
fn queries_follow_json_pointer() {
    let (mut store, json) = instance();
    let document = json.nanoproc_json_document();
    let text = r#"{"authors": [{"name": "Ada"}, {"name": "Grace"}], "a/b": 1, "m~n": 2}"#;
    let query = |store: &mut wasmtime::Store<()>, pointer: &str| {
        document.call_query(store, text, pointer).unwrap()
    };
    assert_eq!(
        query(&mut store, "/authors/1/name"),
        Ok(Some("\"Grace\"".into()))
    );
    assert_eq!(
        query(&mut store, "/authors/0"),
        Ok(Some(r#"{"name":"Ada"}"#.into()))
    );
    assert_eq!(query(&mut store, "/a~1b"), Ok(Some("1".into())));
    assert_eq!(query(&mut store, "/m~0n"), Ok(Some("2".into())));
    assert_eq!(query(&mut store, "/authors/7"), Ok(None));
    assert_eq!(query(&mut store, "/nothing/here"), Ok(None));
    assert_eq!(
        query(&mut store, "authors"),
        Err(QueryError::InvalidPointer("authors".into()))
    );
    let whole = query(&mut store, "").unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&whole).unwrap(),
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    assert_eq!(
        document.call_query(&mut store, "{", "/a").unwrap(),
        Err(QueryError::Syntax(native_error("{")))
    );
}

#[test]
fn query_text_unescapes_strings_only() {
    let (mut store, json) = instance();
    let document = json.nanoproc_json_document();
    let text = r#"{"title": "Caf\u00e9 \"au\" lait\n", "n": 1.50, "list": [1, "x"]}"#;
    let mut query = |pointer: &str| document.call_query_text(&mut store, text, pointer).unwrap();
    assert_eq!(query("/title"), Ok(Some("Café \"au\" lait\n".into())));
    assert_eq!(query("/n"), Ok(Some("1.50".into())));
    assert_eq!(query("/list"), Ok(Some(r#"[1,"x"]"#.into())));
    assert_eq!(query("/list/1"), Ok(Some("x".into())));
    assert_eq!(query("/none"), Ok(None));
    assert_eq!(
        query("title"),
        Err(QueryError::InvalidPointer("title".into()))
    );
}
