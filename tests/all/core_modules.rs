//! Core wasm modules as components: a WASI preview1 module built by Zig or
//! AssemblyScript (the xtask builds `guests/zighash` and `guests/base64`
//! into core modules) is made a component by the linker with the preview1
//! adapter it calls for, composed with least grants, and answers exactly
//! as the same algorithms do natively.

use indexmap::IndexMap;
use nanoproc_host::{Options, Stdio};
use nanoproc_linker::{Adapter, Manifest, Satisfied, compose};
use nanoproc_tests::{component_bytes, compose_manifest, runtime};
use sha2::Digest as _;
use wasmtime::component::ResourceAny;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

const BASE64_APP: &str = "tests/apps/base64/nanoproc.toml";

/// The Zig hash module alone, composed.
fn zighash() -> nanoproc_host::Instance {
    let manifest = Manifest::parse(
        "nanoproc.toml",
        "[app]\nexport = [\"hash\"]\n[components.hash]\npath = \"zighash.wasm\"\n",
    )
    .unwrap();
    let bytes = IndexMap::from([("hash".to_string(), component_bytes("zighash"))]);
    let composition = compose(&manifest, &bytes).unwrap();
    runtime()
        .load(&composition.bytes, Options::default())
        .unwrap()
        .instantiate()
        .unwrap()
}

#[test]
fn the_zig_module_is_a_core_module_and_hashes_as_the_sha2_crate() {
    let bytes = component_bytes("zighash");
    assert!(
        wasmparser::Parser::is_core_wasm(&bytes),
        "the build writes the module"
    );
    let mut hash = zighash();
    let inputs: [&[u8]; 4] = [b"", b"abc", &[0xff; 1000], "wörld".as_bytes()];
    for data in inputs {
        let cases: [(&str, Vec<u8>); 4] = [
            ("sha224", sha2::Sha224::digest(data).to_vec()),
            ("sha256", sha2::Sha256::digest(data).to_vec()),
            ("sha384", sha2::Sha384::digest(data).to_vec()),
            ("sha512", sha2::Sha512::digest(data).to_vec()),
        ];
        for (algorithm, expected) in cases {
            let list: Vec<String> = data.iter().map(u8::to_string).collect();
            let call = format!("hash({algorithm}, [{}])", list.join(", "));
            let got = hash.call_wave(&call).unwrap();
            let want: Vec<String> = expected.iter().map(u8::to_string).collect();
            assert_eq!(got, format!("[{}]", want.join(", ")), "{call}");
            let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
            let got = hash
                .call_wave(&format!("hash-hex({algorithm}, [{}])", list.join(", ")))
                .unwrap();
            assert_eq!(got, format!("\"{hex}\""), "{algorithm}");
        }
    }
}

#[test]
fn the_zig_hasher_resource_digests_input_in_pieces_and_starts_again() {
    let mut hash = zighash();
    let iface = "nanoproc:hash/digest@0.1.0";
    let algorithm = wasmtime::component::Val::Enum("sha256".into());
    let made = hash
        .call_values(&format!("{iface}#[constructor]hasher"), &[algorithm])
        .unwrap();
    let wasmtime::component::Val::Resource(hasher) = made[0] else {
        panic!("the constructor returns a resource: {made:?}");
    };
    let hasher: ResourceAny = hasher;
    let bytes = |data: &[u8]| {
        wasmtime::component::Val::List(
            data.iter()
                .map(|b| wasmtime::component::Val::U8(*b))
                .collect(),
        )
    };
    let resource = wasmtime::component::Val::Resource(hasher);
    for piece in [&b"hello, "[..], b"world"] {
        hash.call_values(
            &format!("{iface}#[method]hasher.update"),
            &[resource.clone(), bytes(piece)],
        )
        .unwrap();
    }
    let finish = format!("{iface}#[method]hasher.finish");
    let digest = hash
        .call_values(&finish, std::slice::from_ref(&resource))
        .unwrap();
    assert_eq!(digest[0], bytes(&sha2::Sha256::digest(b"hello, world")));
    // Finishing starts it again, empty.
    let digest = hash.call_values(&finish, &[resource]).unwrap();
    assert_eq!(digest[0], bytes(&sha2::Sha256::digest(b"")));
}

/// Runs the base64 app with `args` after the program's name: its status
/// and stdout.
fn base64(args: &[&str]) -> (i32, String) {
    let composition = compose_manifest(BASE64_APP).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 16);
    let options = Options {
        args: std::iter::once("base64")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        stdout: Stdio::Pipe(stdout.clone()),
        ..Options::default()
    };
    let app = runtime().load(&composition.bytes, options).unwrap();
    let status = app.instantiate().unwrap().run().unwrap();
    (
        status,
        String::from_utf8(stdout.contents().to_vec()).unwrap(),
    )
}

#[test]
fn the_assemblyscript_command_is_made_a_component_granted_its_arguments_and_stdout_alone() {
    let bytes = component_bytes("base64");
    assert!(
        wasmparser::Parser::is_core_wasm(&bytes),
        "the build writes the module"
    );
    let composition = compose_manifest(BASE64_APP).unwrap();
    let component = &composition.plan.components[0];
    assert_eq!(component.core_module, Some(Adapter::Command));
    let imports = |granted: bool| -> Vec<&str> {
        component
            .imports
            .iter()
            .filter(|(_, s)| matches!(s, Satisfied::Granted(_)) == granted)
            .map(|(name, _)| name.split('@').next().unwrap())
            .collect()
    };
    assert_eq!(
        imports(true),
        [
            "wasi:cli/environment",
            "wasi:io/error",
            "wasi:io/streams",
            "wasi:cli/stdout",
        ]
    );
    assert_eq!(
        imports(false),
        [
            "wasi:cli/exit",
            "wasi:cli/stdin",
            "wasi:cli/stderr",
            "wasi:clocks/wall-clock",
            "wasi:filesystem/types",
            "wasi:filesystem/preopens",
        ]
    );
    let audit = nanoproc_linker::Audit::new(&composition.plan).to_string();
    assert!(
        audit.contains(
            "`base64` is a core wasm module, made a component with the WASI preview1 command adapter\n"
        ),
        "{audit}"
    );
}

#[test]
fn the_assemblyscript_command_encodes_as_the_base64_crate() {
    use base64::Engine as _;
    let args = ["", "f", "fo", "foo", "hello, world", "wörld ✓ 🦀"];
    let expected: String = args
        .iter()
        .map(|a| format!("{}\n", base64::engine::general_purpose::STANDARD.encode(a)))
        .collect();
    assert_eq!(base64(&args), (0, expected));
    assert_eq!(base64(&[]), (0, String::new()));
}
