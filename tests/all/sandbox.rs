//! Hostile components against the sandbox: a chain whose every link may
//! fault, a component that can reach only what it is wired to, a dependency
//! that reaches through Rust's standard library for what it never declared,
//! and an instance that trapped being entered again.

use std::net::TcpListener;
use std::path::Path;

use nanoproc_host::{App, Cause, Options};
use nanoproc_tests::{compose_manifest, project_root, runtime, store};

use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentName, ComponentTypeRef,
    KnownCustom, Parser, Payload,
};

use crate::host::{Refused, fault, load};

const CHAIN: &str = "tests/apps/chain/nanoproc.toml";

fn chain() -> App {
    load(Path::new(CHAIN), Options::default())
}

#[test]
fn a_trap_at_the_end_of_a_chain_names_the_last_component_and_the_whole_chain_starts_afresh() {
    let app = chain();
    let mut instance = app.instantiate().unwrap();
    for text in ["one", "two"] {
        let (echo,): (String,) = instance.call("echo-there", (text.to_string(),)).unwrap();
        assert_eq!(echo, text);
    }
    let (passed,): (u32,) = instance.call("passed-on", ()).unwrap();
    assert_eq!(passed, 2, "the middle keeps its state between calls");

    let fault = fault(
        instance
            .call::<(String,), ()>("fail-there", ("boom".into(),))
            .unwrap_err(),
    );
    assert_eq!(
        fault.to_string(),
        "component `hostile` trapped in `nanoproc:hostile/attacks@0.1.0#fail` \
         (innermost frame `__rustc::rust_panic`) during the call to \
         `nanoproc:hostile/forward@0.1.0#fail-there`: wasm trap: wasm `unreachable` instruction executed"
    );

    // The next call meets a new relay, middle and hostile: the middle's
    // count starts again, and the chain works.
    let (passed,): (u32,) = instance.call("passed-on", ()).unwrap();
    assert_eq!(passed, 0);
    let (echo,): (String,) = instance.call("echo-there", ("three".to_string(),)).unwrap();
    assert_eq!(echo, "three");
}

#[test]
fn a_trap_in_the_middle_of_a_chain_names_the_middle() {
    let app = chain();
    let mut instance = app.instantiate().unwrap();
    let (echo,): (String,) = instance
        .call("echo-there", ("before".to_string(),))
        .unwrap();
    assert_eq!(echo, "before");
    let fault = fault(
        instance
            .call::<(String,), ()>("fail-there", ("middle: boom".into(),))
            .unwrap_err(),
    );
    assert_eq!(fault.component.as_deref(), Some("middle"));
    assert_eq!(
        fault.function.as_deref(),
        Some("nanoproc:hostile/attacks@0.1.0#fail")
    );
    assert_eq!(fault.call, "nanoproc:hostile/forward@0.1.0#fail-there");
    assert!(matches!(
        fault.cause,
        Cause::Trap(wasmtime::Trap::UnreachableCodeReached)
    ));
    let (passed,): (u32,) = instance.call("passed-on", ()).unwrap();
    assert_eq!(passed, 0, "the faulted chain was replaced");
}

#[test]
fn a_stack_overflow_at_the_end_of_a_chain_is_the_last_components() {
    let app = chain();
    let mut instance = app.instantiate().unwrap();
    let fault = fault(
        instance
            .call::<(u64,), (u64,)>("nanoproc:hostile/attacks@0.1.0#recurse", (u64::MAX / 2,))
            .unwrap_err(),
    );
    assert_eq!(fault.cause, Cause::StackOverflow);
    assert_eq!(fault.component.as_deref(), Some("hostile"));
    let (depth,): (u64,) = instance
        .call("nanoproc:hostile/attacks@0.1.0#recurse", (1000u64,))
        .unwrap();
    assert_eq!(depth, 1000);
}

/// Each component instance of a composed app, by name, with the arguments
/// it is instantiated with: for each import, the component (or host import)
/// whose instance satisfies it.
fn instantiations(bytes: &[u8]) -> Vec<(String, Vec<(String, String)>)> {
    /// Where an instance of the outer component comes from.
    enum Origin {
        Import(String),
        Export { of: u32 },
        Instantiated(Vec<(String, u32)>),
    }
    let mut instances = Vec::new();
    let mut names = std::collections::HashMap::new();
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.unwrap();
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            _ if depth > 0 => {}
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.unwrap();
                    if let ComponentTypeRef::Instance(_) = import.ty {
                        instances.push(Origin::Import(import.name.name.to_string()));
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let ComponentAlias::InstanceExport {
                        kind: ComponentExternalKind::Instance,
                        instance_index,
                        ..
                    } = alias.unwrap()
                    {
                        instances.push(Origin::Export { of: instance_index });
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    instances.push(match instance.unwrap() {
                        ComponentInstance::Instantiate { args, .. } => Origin::Instantiated(
                            args.iter()
                                .map(|arg| (arg.name.to_string(), arg.index))
                                .collect(),
                        ),
                        ComponentInstance::FromExports(_) => Origin::Instantiated(Vec::new()),
                    });
                }
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::ComponentName(reader) = reader.as_known() {
                    for name in reader {
                        if let ComponentName::Instances(map) = name.unwrap() {
                            for naming in map {
                                let naming = naming.unwrap();
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // The component an instance's functions come from.
    let source = |mut index: u32| loop {
        match &instances[index as usize] {
            Origin::Import(name) => return format!("host import {name}"),
            Origin::Export { of } => index = *of,
            Origin::Instantiated(_) => return names[&index].clone(),
        }
    };
    (0u32..)
        .zip(&instances)
        .filter_map(|(index, origin)| match origin {
            Origin::Instantiated(args) => Some((
                names[&index].clone(),
                args.iter()
                    .map(|(name, of)| (name.clone(), source(*of)))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_component_is_handed_only_what_it_is_wired_to_and_cannot_name_the_rest() {
    let composition = compose_manifest(CHAIN).unwrap();
    // A component calls out only through its imports, and the composed app
    // instantiates each with exactly the instances its wiring names: the
    // relay gets the middle's attacks, and nothing of the hostile
    // component's, although it sits in the same app.
    let attacks = "nanoproc:hostile/attacks@0.1.0".to_string();
    assert_eq!(
        instantiations(&composition.bytes),
        [
            ("hostile".to_string(), vec![]),
            (
                "middle".to_string(),
                vec![(attacks.clone(), "hostile".to_string())]
            ),
            ("relay".to_string(), vec![(attacks, "middle".to_string())]),
        ]
    );
    // And at run time every one of the relay's calls passes the middle.
    let app = chain();
    let mut instance = app.instantiate().unwrap();
    let (last,): (u64,) = instance.call("step-there", (1000u32,)).unwrap();
    assert_eq!(last, 1000);
    let (passed,): (u32,) = instance.call("passed-on", ()).unwrap();
    assert_eq!(passed, 1000);
}

#[test]
fn wasmtime_refuses_to_enter_an_instance_that_trapped() {
    // Below the host's own recovery: wasmtime itself will not run code in
    // a component instance after a trap left it in an unknown state.
    let composition = compose_manifest("tests/apps/relay/nanoproc.toml").unwrap();
    let component = wasmtime::component::Component::new(runtime().engine(), &composition.bytes)
        .expect("the relay app compiles");
    let mut store = store(());
    let linker = wasmtime::component::Linker::new(runtime().engine());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let forward = instance
        .get_export_index(&mut store, None, "nanoproc:hostile/forward@0.1.0")
        .unwrap();
    let func = |store: &mut wasmtime::Store<()>, name: &str| {
        let index = instance
            .get_export_index(&mut *store, Some(&forward), name)
            .unwrap();
        instance.get_func(&mut *store, index).unwrap()
    };
    let fail = func(&mut store, "fail-there")
        .typed::<(String,), ()>(&store)
        .unwrap();
    let echo = func(&mut store, "echo-there")
        .typed::<(String,), (String,)>(&store)
        .unwrap();
    let (echoed,) = echo.call(&mut store, ("first".into(),)).unwrap();
    assert_eq!(echoed, "first");

    let trap = fail.call(&mut store, ("boom".into(),)).unwrap_err();
    assert_eq!(
        trap.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::UnreachableCodeReached)
    );
    let again = echo.call(&mut store, ("again".into(),)).unwrap_err();
    assert_eq!(
        again.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::CannotEnterComponent),
        "{again:?}"
    );
}

/// The snoop beside a prober granted `data`, `CARGO_PKG_NAME` and one host,
/// with the refusals the host reports.
fn snoop_app() -> (App, Refused) {
    let refused = Refused::default();
    let options = refused.options(&project_root().join("tests/apps/snoop"));
    let app = load(Path::new("tests/apps/snoop/nanoproc.toml"), options);
    (app, refused)
}

#[test]
fn undeclared_files_variables_and_network_are_not_there_even_beside_a_grant() {
    let (app, refused) = snoop_app();
    let mut instance = app.instantiate().unwrap();
    let granted = project_root().join("tests/apps/snoop/data/note.txt");

    // The neighbour holds its grants.
    let (note,): (Result<String, String>,) = instance
        .call("read", ("/data".to_string(), "note.txt".to_string()))
        .unwrap();
    assert_eq!(note, Ok("granted to the prober only\n".into()));
    let (name,): (Option<String>,) = instance
        .call("env", ("CARGO_PKG_NAME".to_string(),))
        .unwrap();
    assert_eq!(name.as_deref(), Some("nanoproc-tests"));
    // (It was refused the variables it was not granted: a matter of its own.)
    refused.take();

    // The snoop gets none of them, whichever way it asks.
    // With no directory given, the standard library finds no directory to
    // open any path in.
    let no_preopen = |_: &str| "Capabilities insufficient (os error 76)".to_string();
    for path in [
        "/data/note.txt",
        granted.to_str().unwrap(),
        "/etc/passwd",
        "../../../../etc/passwd",
    ] {
        let (read,): (Result<String, String>,) =
            instance.call("read-file", (path.to_string(),)).unwrap();
        assert_eq!(read, Err(no_preopen(path)), "reading {path}");
    }
    for path in ["/", "/data", "."] {
        let (listed,): (Result<Vec<String>, String>,) =
            instance.call("list-dir", (path.to_string(),)).unwrap();
        assert_eq!(listed, Err(no_preopen(path)), "listing {path}");
    }
    let (variables,): (Vec<String>,) = instance.call("variables", ()).unwrap();
    assert_eq!(variables, [""; 0]);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (connected,): (Result<(), String>,) = instance
        .call("nanoproc:hostile/snooping@0.1.0#connect", (address,))
        .unwrap();
    assert_eq!(
        connected,
        Err("operation not supported on this platform".into())
    );
    assert!(listener.accept().is_err(), "nothing connected");

    // The linker answered the snoop with deny providers: the host was never
    // asked, so it has nothing to report.
    assert_eq!(refused.take(), [""; 0]);
    assert!(Path::new(&granted).is_file());
}
