//! Components from JavaScript and Python toolchains: the semver component is
//! npm's `semver` built by componentize-js, the sql component PyPI's
//! `sqlparse` built by componentize-py. Each answers exactly as its library
//! does, and composes with Rust components in an app: the resolver app
//! (Rust calling JavaScript) and the fingerprint app (Rust calling Python
//! and Rust). The JavaScript component imports nothing (componentize-js
//! leaves WASI out when every feature is off); the Python one imports the
//! 25 WASI interfaces CPython is built with, holds `random` alone, and is
//! answered for the other 24 by the linker's deny providers.

use std::sync::OnceLock;

use indexmap::IndexMap;
use nanoproc_host::Options;
use nanoproc_linker::{Audit, ComponentInterface, Manifest, compose};
use nanoproc_tests::{
    WasiHost, component, component_bytes, compose_manifest, engine, runtime, store,
};
use sha2::Digest as _;
use wasmparser::{KnownCustom, Parser, Payload};
use wasmtime::component::{ComponentType, Lift, Linker, Lower};

/// The bindings of the semver component's world.
mod js {
    wasmtime::component::bindgen!({
        path: "../wit/semver",
        world: "nanoproc:semver/semver",
        additional_derives: [PartialEq, Eq],
    });
}

/// The bindings of the sql component's world.
mod py {
    wasmtime::component::bindgen!({
        path: "../wit/sql",
        world: "nanoproc:sql/sql",
        additional_derives: [PartialEq, Eq],
    });
}

use js::exports::nanoproc::semver::versions::Error as VersionError;
use py::exports::nanoproc::sql::text::{LetterCase, Options as FormatOptions, Token, TokenKind};

/// The resolver app's manifest.
const RESOLVER_APP: &str = "tests/apps/resolver/nanoproc.toml";
/// The fingerprint app's manifest.
const FINGERPRINT_APP: &str = "tests/apps/fingerprint/nanoproc.toml";

fn semver() -> (wasmtime::Store<()>, js::Semver) {
    let mut store = store(());
    let semver =
        js::Semver::instantiate(&mut store, &component("semver"), &Linker::new(engine())).unwrap();
    (store, semver)
}

/// The sql component alone, granted `random` and denied the rest of what
/// CPython imports: the composed app imports `wasi:random/random` only.
fn sql() -> (wasmtime::Store<WasiHost>, py::Sql) {
    let manifest = Manifest::parse(
        "nanoproc.toml",
        "[app]\nexport = [\"sql\"]\n[components.sql]\nguest = \"sql\"\ngrants = { random = true }\n",
    )
    .unwrap();
    let bytes = IndexMap::from([("sql".to_string(), component_bytes("sql"))]);
    let composition = compose(&manifest, &bytes).unwrap();
    let app = wasmtime::component::Component::new(engine(), &composition.bytes).unwrap();
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut store = store(WasiHost::from_builder(wasmtime_wasi::WasiCtx::builder()));
    let sql = py::Sql::instantiate(&mut store, &app, &linker).unwrap();
    (store, sql)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The `processed-by` fields of the component's own producers section.
fn processed_by(bytes: &[u8]) -> Vec<String> {
    let mut depth = 0;
    let mut found = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::CustomSection(section) if depth == 1 => {
                if let KnownCustom::Producers(fields) = section.as_known() {
                    for field in fields {
                        let field = field.unwrap();
                        for value in field.values {
                            let value = value.unwrap();
                            if field.name == "processed-by" {
                                found.push(format!("{} {}", value.name, value.version));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

#[test]
fn the_foreign_components_import_what_their_toolchain_adds_and_name_it() {
    let semver = component_bytes("semver");
    let interface = ComponentInterface::read(&semver).unwrap();
    assert!(interface.imports.is_empty(), "{:?}", interface.imports);
    let exports: Vec<&str> = interface.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exports, ["nanoproc:semver/versions@0.1.0"]);
    assert!(
        processed_by(&semver).contains(&"ComponentizeJS 0.23.0".to_string()),
        "{:?}",
        processed_by(&semver)
    );

    let sql = component_bytes("sql");
    let interface = ComponentInterface::read(&sql).unwrap();
    let imports: Vec<&str> = interface.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(imports.len(), 25, "{imports:?}");
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("wasi:") && i.ends_with("@0.2.9")),
        "{imports:?}"
    );
    // componentize-py also exports `exports`, the hook it pre-initializes
    // the interpreter through; an app exports it only when it exports the
    // sql component itself.
    let exports: Vec<&str> = interface.exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exports, ["exports", "nanoproc:sql/text@0.1.0"]);
    assert!(
        processed_by(&sql)
            .iter()
            .any(|p| p.starts_with("component-init-transform ")),
        "{:?}",
        processed_by(&sql)
    );
}

#[test]
fn semver_cleans_and_compares_versions_as_npm_does() {
    let (mut store, semver) = semver();
    let versions = semver.nanoproc_semver_versions();
    for (text, expected) in [
        (" =v1.2.3 ", Some("1.2.3")),
        ("v1.2.3-beta.1+build.5", Some("1.2.3-beta.1")),
        ("1.2", None),
        ("01.2.3", None),
        ("not a version", None),
        ("", None),
    ] {
        assert_eq!(
            versions.call_clean(&mut store, text).unwrap(),
            expected.map(str::to_string),
            "{text:?}"
        );
    }
    for (a, b, expected) in [
        ("1.2.3", "1.2.3-beta", Ok(1)),
        ("1.0.0-alpha", "1.0.0-alpha.1", Ok(-1)),
        ("1.0.0-alpha.10", "1.0.0-alpha.9", Ok(1)),
        ("1.0.0+a", "1.0.0+b", Ok(0)),
        ("2.0.0", "10.0.0", Ok(-1)),
        ("x", "1.0.0", Err(VersionError::InvalidVersion("x".into()))),
        (
            "1.0.0",
            "1.0",
            Err(VersionError::InvalidVersion("1.0".into())),
        ),
    ] {
        assert_eq!(
            versions.call_compare(&mut store, a, b).unwrap(),
            expected,
            "{a} vs {b}"
        );
    }
    assert_eq!(
        versions
            .call_sort(
                &mut store,
                &strings(&[
                    "2.0.0",
                    "1.0.0-alpha",
                    "1.0.0+b",
                    "10.0.0",
                    "1.0.0-alpha.1",
                    "1.0.0+a",
                    "1.0.0-beta",
                ])
            )
            .unwrap(),
        // Equal versions keep their order.
        Ok(strings(&[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta",
            "1.0.0+b",
            "1.0.0+a",
            "2.0.0",
            "10.0.0",
        ]))
    );
    assert_eq!(
        versions
            .call_sort(&mut store, &strings(&["1.0.0", "v2"]))
            .unwrap(),
        Err(VersionError::InvalidVersion("v2".into()))
    );
}

#[test]
fn semver_reads_ranges_as_npm_does() {
    let (mut store, semver) = semver();
    let versions = semver.nanoproc_semver_versions();
    for (version, range, expected) in [
        ("1.2.3", "^1.2.0", Ok(true)),
        ("2.0.0", "^1.2.0", Ok(false)),
        ("0.2.5", "^0.2.3", Ok(true)),
        ("0.3.0", "^0.2.3", Ok(false)),
        ("1.2.9", "~1.2", Ok(true)),
        ("1.3.0", "~1.2", Ok(false)),
        ("1.5.0", ">=1.0.0 <2.0.0", Ok(true)),
        ("3.0.0", "1.x || 3.0.0", Ok(true)),
        ("2.1.0", "1.x || 3.0.0", Ok(false)),
        ("4.0.0", "*", Ok(true)),
        // A prerelease is in a range only when the range names one of its
        // major.minor.patch.
        ("1.3.0-beta.1", "^1.2.0", Ok(false)),
        ("1.3.0-beta.2", ">=1.3.0-beta.1", Ok(true)),
        (
            "1.2.3",
            "not a range",
            Err(VersionError::InvalidRange("not a range".into())),
        ),
        (
            "1.2",
            "^1.0.0",
            Err(VersionError::InvalidVersion("1.2".into())),
        ),
    ] {
        assert_eq!(
            versions.call_satisfies(&mut store, version, range).unwrap(),
            expected,
            "{version} in {range}"
        );
    }
    let published = strings(&["1.0.0", "1.5.0", "2.0.0", "1.9.9-rc.1", "1.4.2"]);
    for (range, expected) in [
        ("^1.0.0", Ok(Some("1.5.0".to_string()))),
        ("~1.4", Ok(Some("1.4.2".to_string()))),
        ("*", Ok(Some("2.0.0".to_string()))),
        ("^3", Ok(None)),
        ("=<", Err(VersionError::InvalidRange("=<".into()))),
    ] {
        assert_eq!(
            versions
                .call_max_satisfying(&mut store, &published, range)
                .unwrap(),
            expected,
            "{range}"
        );
    }
    assert_eq!(
        versions
            .call_max_satisfying(&mut store, &strings(&["1.0.0", "bad"]), "*")
            .unwrap(),
        Err(VersionError::InvalidVersion("bad".into()))
    );
    assert_eq!(
        versions.call_max_satisfying(&mut store, &[], "^1").unwrap(),
        Ok(None)
    );
}

fn token(kind: TokenKind, ttype: &str, text: &str) -> Token {
    Token {
        kind,
        ttype: ttype.to_string(),
        text: text.to_string(),
    }
}

#[test]
fn sql_splits_tokenizes_and_formats_as_sqlparse_does() {
    let (mut store, sql) = sql();
    let text = sql.nanoproc_sql_text();
    assert_eq!(
        text.call_split(&mut store, "select 1; select 2;").unwrap(),
        strings(&["select 1;", "select 2;"])
    );
    assert_eq!(
        text.call_split(
            &mut store,
            "select 'a;b' from t;\n\n  insert into t values (1)"
        )
        .unwrap(),
        strings(&["select 'a;b' from t;", "insert into t values (1)"])
    );
    assert_eq!(
        text.call_split(&mut store, "").unwrap(),
        Vec::<String>::new()
    );

    assert_eq!(
        text.call_tokens(&mut store, "select a from \"T\" -- c")
            .unwrap(),
        [
            token(TokenKind::Keyword, "Keyword.DML", "select"),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Name, "Name", "a"),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Keyword, "Keyword", "from"),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Name, "Literal.String.Symbol", "\"T\""),
            token(TokenKind::Whitespace, "Text.Whitespace", " "),
            token(TokenKind::Comment, "Comment.Single", "-- c"),
        ]
    );
    // The tokens' texts give the input back, whatever it is.
    for input in [
        "SELECT * FROM t WHERE x >= 2.5 AND y <> 'héllo ✓' /* note */;",
        "insert into s.t (a, b) values (?, :name) returning *",
        "not sql at all ((( '",
        "",
    ] {
        let tokens = text.call_tokens(&mut store, input).unwrap();
        let joined: String = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(joined, input);
    }

    let options = |keyword_case, identifier_case, strip_comments, reindent| FormatOptions {
        keyword_case,
        identifier_case,
        strip_comments,
        reindent,
    };
    assert_eq!(
        text.call_format(
            &mut store,
            "select a,b from t where x=1 and y=2",
            options(Some(LetterCase::Uppercase), None, false, true)
        )
        .unwrap(),
        "SELECT a,\n       b\nFROM t\nWHERE x=1\n  AND y=2"
    );
    assert_eq!(
        text.call_format(
            &mut store,
            "select a -- c\nfrom T where \"Id\" = 1",
            options(None, Some(LetterCase::Uppercase), true, false)
        )
        .unwrap(),
        "select A\nfrom T where \"Id\" = 1"
    );
    assert_eq!(
        text.call_format(
            &mut store,
            "SELECT Name FROM Users",
            options(
                Some(LetterCase::Capitalized),
                Some(LetterCase::Lowercase),
                false,
                false
            )
        )
        .unwrap(),
        "Select name From users"
    );
    // Nothing asked for, nothing changed.
    let untouched = "select  a -- c\n from t";
    assert_eq!(
        text.call_format(&mut store, untouched, options(None, None, false, false))
            .unwrap(),
        untouched
    );
}

/// The resolver's records and error, as `nanoproc:resolver/resolve` defines them.
#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq, Eq)]
#[component(record)]
struct Requirement {
    name: String,
    range: String,
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq, Eq)]
#[component(record)]
struct Release {
    name: String,
    versions: Vec<String>,
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq, Eq)]
#[component(record)]
struct Pick {
    name: String,
    version: String,
}

#[derive(ComponentType, Lift, Lower, Debug, PartialEq, Eq)]
#[component(variant)]
enum ResolveError {
    #[component(name = "unknown-package")]
    UnknownPackage(String),
    #[component(name = "no-match")]
    NoMatch(Requirement),
    #[component(name = "invalid-version")]
    InvalidVersion(String),
    #[component(name = "invalid-range")]
    InvalidRange(String),
}

/// The fingerprint's record, as `nanoproc:fingerprint/queries` defines it.
#[derive(ComponentType, Lift, Lower, Debug, PartialEq, Eq)]
#[component(record)]
struct Query {
    text: String,
    normalized: String,
    fingerprint: String,
}

/// The app of `manifest`, composed and loaded once per test process.
fn app(manifest: &'static str) -> nanoproc_host::Instance {
    static APPS: OnceLock<std::sync::Mutex<IndexMap<&str, nanoproc_host::App>>> = OnceLock::new();
    let mut apps = APPS.get_or_init(Default::default).lock().unwrap();
    apps.entry(manifest)
        .or_insert_with(|| {
            let composition = compose_manifest(manifest).unwrap();
            runtime()
                .load(&composition.bytes, Options::default())
                .unwrap()
        })
        .instantiate()
        .unwrap()
}

fn requirement(name: &str, range: &str) -> Requirement {
    Requirement {
        name: name.to_string(),
        range: range.to_string(),
    }
}

fn resolve(
    instance: &mut nanoproc_host::Instance,
    requirements: &[Requirement],
    index: &[Release],
) -> Result<Vec<Pick>, ResolveError> {
    instance
        .call::<(&[Requirement], &[Release]), (Result<Vec<Pick>, ResolveError>,)>(
            "resolve",
            (requirements, index),
        )
        .unwrap()
        .0
}

#[test]
fn the_resolver_app_wires_rust_to_javascript_and_holds_no_capability() {
    let composition = compose_manifest(RESOLVER_APP).unwrap();
    assert_eq!(
        Audit::new(&composition.plan).to_string(),
        "app `resolver`
component  import                          satisfied by
semver     (none)                          imports nothing
resolver   nanoproc:semver/versions@0.1.0  wired to semver

capability  held by  reachable through exports by
(none)      nobody   nobody

exports nanoproc:resolver/resolve@0.1.0 from resolver
"
    );
    assert!(
        composition.plan.warnings.is_empty(),
        "{:?}",
        composition.plan.warnings
    );
    let app = ComponentInterface::read(&composition.bytes).unwrap();
    assert!(app.imports.is_empty(), "{:?}", app.imports);
    for component in &composition.plan.components {
        assert_eq!(component.grants, Default::default(), "{}", component.name);
    }
}

#[test]
fn the_fingerprint_app_grants_python_random_alone_and_denies_it_the_rest() {
    let composition = compose_manifest(FINGERPRINT_APP).unwrap();
    let denied = |interface: &str, capability: &str| {
        format!("sql          {interface:<38}denied {capability} (inert provider)\n")
    };
    let mut expected = String::from(
        "app `fingerprint`\ncomponent    import                                satisfied by\n",
    );
    for (interface, capability) in [
        ("wasi:io/poll@0.2.9", "io"),
        ("wasi:clocks/monotonic-clock@0.2.9", "clocks"),
        ("wasi:clocks/wall-clock@0.2.9", "clocks"),
    ] {
        expected.push_str(&denied(interface, capability));
    }
    expected.push_str("sql          wasi:random/random@0.2.9              granted random\n");
    for (interface, capability) in [
        ("wasi:io/error@0.2.9", "io"),
        ("wasi:io/streams@0.2.9", "io"),
        ("wasi:cli/stdout@0.2.9", "stdout"),
        ("wasi:cli/stderr@0.2.9", "stderr"),
        ("wasi:cli/stdin@0.2.9", "stdin"),
        ("wasi:cli/environment@0.2.9", "env"),
        ("wasi:cli/exit@0.2.9", "exit"),
        ("wasi:cli/terminal-input@0.2.9", "io"),
        ("wasi:cli/terminal-output@0.2.9", "io"),
        ("wasi:cli/terminal-stdin@0.2.9", "stdin"),
        ("wasi:cli/terminal-stdout@0.2.9", "stdout"),
        ("wasi:cli/terminal-stderr@0.2.9", "stderr"),
        ("wasi:filesystem/types@0.2.9", "dirs"),
        ("wasi:filesystem/preopens@0.2.9", "dirs"),
        ("wasi:sockets/network@0.2.9", "network"),
        ("wasi:sockets/instance-network@0.2.9", "network"),
        ("wasi:sockets/udp@0.2.9", "network"),
        ("wasi:sockets/udp-create-socket@0.2.9", "network"),
        ("wasi:sockets/tcp@0.2.9", "network"),
        ("wasi:sockets/tcp-create-socket@0.2.9", "network"),
        ("wasi:sockets/ip-name-lookup@0.2.9", "network"),
    ] {
        expected.push_str(&denied(interface, capability));
    }
    expected.push_str(
        "hash         (none)                                imports nothing
fingerprint  nanoproc:sql/text@0.1.0               wired to sql
fingerprint  nanoproc:hash/digest@0.1.0            wired to hash

capability  held by  reachable through exports by
random      sql      fingerprint (via sql)

exports nanoproc:fingerprint/queries@0.1.0 from fingerprint
",
    );
    assert_eq!(Audit::new(&composition.plan).to_string(), expected);
    assert!(
        composition.plan.warnings.is_empty(),
        "{:?}",
        composition.plan.warnings
    );
    // The app reaches the host for randomness and for nothing else.
    let app = ComponentInterface::read(&composition.bytes).unwrap();
    let imports: Vec<&str> = app.imports.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(imports, ["wasi:random/random@0.2.9"]);
}

#[test]
fn the_python_component_denied_random_traps_at_its_first_call_and_says_where() {
    let composition = compose_manifest(FINGERPRINT_APP).unwrap();
    let manifest = std::fs::read_to_string(nanoproc_tests::project_root().join(FINGERPRINT_APP))
        .unwrap()
        .replace("grants = { random = true }\n", "");
    let manifest = Manifest::parse("nanoproc.toml", manifest).unwrap();
    let bytes = manifest
        .read_components(&nanoproc_tests::components_dir())
        .unwrap();
    let denied = compose(&manifest, &bytes).unwrap();
    assert_ne!(denied.bytes, composition.bytes);
    let app = runtime().load(&denied.bytes, Options::default()).unwrap();
    let mut instance = app.instantiate().unwrap();
    let fault = instance
        .call::<(String,), (Vec<Query>,)>("fingerprint", ("select 1".to_string(),))
        .unwrap_err();
    let fault = fault.downcast_ref::<nanoproc_host::Fault>().unwrap();
    assert_eq!(fault.component.as_deref(), Some("sql"));
    assert_eq!(
        fault.innermost.as_deref(),
        Some("denied wasi:random/random@0.2.9#get-random-bytes"),
        "{fault}"
    );
    assert!(
        fault.to_string().ends_with(
            ": wasm trap: wasm `unreachable` instruction executed; \
             `wasi:random/random@0.2.9#get-random-bytes` is denied to `sql`, and no value can \
             answer it; to grant it, add `random = true` under `[components.sql.grants]`"
        ),
        "{fault}"
    );
    // `strict` refuses what the toolchain added instead of denying it.
    let strict = std::fs::read_to_string(nanoproc_tests::project_root().join(FINGERPRINT_APP))
        .unwrap()
        .replace("[app]\n", "[app]\nstrict = true\n");
    let strict = Manifest::parse("nanoproc.toml", strict).unwrap();
    let refused = format!("{:#}", compose(&strict, &bytes).unwrap_err());
    assert!(
        refused.starts_with("component `sql` imports `wasi:clocks/monotonic-clock@0.2.9`, ")
            && refused.contains("they would be denied by inert providers, but the app is `strict`"),
        "{refused}"
    );
}

#[test]
fn the_resolver_app_picks_versions_through_the_javascript_component() {
    let mut resolver = app(RESOLVER_APP);
    let index = [
        Release {
            name: "left-pad".into(),
            versions: strings(&["1.0.0", "1.1.3", "1.3.0", "2.0.0-rc.1", "2.0.0"]),
        },
        Release {
            name: "lodash".into(),
            versions: strings(&["4.17.20", "4.17.21", "4.18.0", "3.10.1"]),
        },
    ];
    assert_eq!(
        resolve(
            &mut resolver,
            &[
                requirement("lodash", "~4.17.0"),
                requirement("left-pad", "^1.1.0"),
                requirement("left-pad", ">=2.0.0-rc.1"),
            ],
            &index
        ),
        Ok(vec![
            Pick {
                name: "lodash".into(),
                version: "4.17.21".into()
            },
            Pick {
                name: "left-pad".into(),
                version: "1.3.0".into()
            },
            Pick {
                name: "left-pad".into(),
                version: "2.0.0".into()
            },
        ])
    );
    assert_eq!(resolve(&mut resolver, &[], &index), Ok(Vec::new()));
    for (requirements, expected) in [
        (
            vec![requirement("lodash", "^4"), requirement("react", "^18")],
            ResolveError::UnknownPackage("react".into()),
        ),
        (
            vec![requirement("lodash", "^5")],
            ResolveError::NoMatch(requirement("lodash", "^5")),
        ),
        (
            vec![requirement("lodash", "^^4")],
            ResolveError::InvalidRange("^^4".into()),
        ),
    ] {
        assert_eq!(resolve(&mut resolver, &requirements, &index), Err(expected));
    }
    let bad_index = [Release {
        name: "lodash".into(),
        versions: strings(&["4.17.21", "latest"]),
    }];
    assert_eq!(
        resolve(&mut resolver, &[requirement("lodash", "*")], &bad_index),
        Err(ResolveError::InvalidVersion("latest".into()))
    );
}

#[test]
fn the_fingerprint_app_groups_statements_through_the_python_component() {
    let mut fingerprint = app(FINGERPRINT_APP);
    let script = "select a, B from Users -- who\nwhere id = 1;\n\
                  SELECT a,b FROM users WHERE id=42 ;\n\
                  insert into s.t (x, \"Y\") values (?, 'it''s', :name, 2.5); -- done";
    let (queries,): (Vec<Query>,) = fingerprint
        .call("fingerprint", (script.to_string(),))
        .unwrap();
    let sha256 = |text: &str| {
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let expected = [
        (
            "select a, B from Users -- who\nwhere id = 1;",
            "SELECT a, b FROM users WHERE id = ?",
        ),
        (
            "SELECT a,b FROM users WHERE id=42 ;",
            "SELECT a, b FROM users WHERE id = ?",
        ),
        (
            "insert into s.t (x, \"Y\") values (?, 'it''s', :name, 2.5); -- done",
            "INSERT INTO s.t (x, \"Y\") VALUES (?, ?, ?, ?)",
        ),
    ];
    assert_eq!(
        queries,
        expected
            .iter()
            .map(|(text, normalized)| Query {
                text: text.to_string(),
                normalized: normalized.to_string(),
                fingerprint: sha256(normalized),
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(queries[0].fingerprint, queries[1].fingerprint);
    // Statements of nothing but space and comments are left out.
    let (queries,): (Vec<Query>,) = fingerprint
        .call("fingerprint", ("-- nothing\n  /* at all */".to_string(),))
        .unwrap();
    assert_eq!(queries, []);
}

/// The resolver app's manifest with `change` applied to its text, composed
/// from the built components.
fn compose_resolver(
    change: impl Fn(&str) -> String,
) -> Result<nanoproc_linker::Composition, nanoproc_linker::ComposeError> {
    let path = nanoproc_tests::project_root().join(RESOLVER_APP);
    let text = change(&std::fs::read_to_string(&path).unwrap());
    let manifest = Manifest::parse("nanoproc.toml", text).unwrap();
    let mut bytes = IndexMap::new();
    for name in ["resolver", "semver"] {
        bytes.insert(name.to_string(), component_bytes(name));
    }
    compose(&manifest, &bytes)
}

#[test]
fn the_rust_component_reaches_the_javascript_one_only_when_the_app_has_it() {
    // Without the semver component, the resolver's import is satisfied by
    // nothing: composing fails before anything runs.
    let error = format!(
        "{:#}",
        compose_resolver(|text| text.replace("[components.semver]\nguest = \"semver\"\n", ""))
            .unwrap_err()
    );
    assert_eq!(
        error,
        "component `resolver` imports `nanoproc:semver/versions@0.1.0`, which no component exports and no grant provides
  --> nanoproc.toml:9:1
  help: add a component that exports it, or add `wire = { \"nanoproc:semver/versions\" = \"COMPONENT\" }` under `[components.resolver]`"
    );
}

#[test]
fn a_grant_the_javascript_component_does_not_import_gives_it_nothing() {
    // Strict mode refuses imports a toolchain added: there are none.
    let strict = compose_resolver(|text| text.replace("[app]\n", "[app]\nstrict = true\n"));
    assert!(strict.is_ok(), "{}", strict.err().unwrap());
    // A grant for what the component never imports is named, and the app
    // still imports nothing: the component cannot reach what it was granted.
    let granted = compose_resolver(|text| {
        text.replace(
            "[components.semver]\nguest = \"semver\"\n",
            "[components.semver]\nguest = \"semver\"\ngrants = { stdout = true, random = true }\n",
        )
    })
    .unwrap();
    assert_eq!(
        granted.plan.warnings,
        [
            "nanoproc.toml:14:10: component `semver` is granted `stdout`, which it does not import",
            "nanoproc.toml:14:10: component `semver` is granted `random`, which it does not import",
        ]
    );
    let app = ComponentInterface::read(&granted.bytes).unwrap();
    assert!(app.imports.is_empty(), "{:?}", app.imports);
}
