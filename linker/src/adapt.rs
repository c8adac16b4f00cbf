//! Core wasm modules made components. A module built for WASI preview1
//! (`cargo build --target wasm32-wasip1`, clang with wasi-libc, Zig,
//! AssemblyScript's WASI shim) is given the preview1 adapter that the
//! host's wasmtime release ships, as a toolchain that makes components
//! gives it; from then on it is a component like any other, its adapter's
//! unused imports denied.

use anyhow::{Context as _, Result};
use serde::Serialize;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmparser::{ExternalKind, Parser, Payload};

/// Which preview1 adapter a core module was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Adapter {
    /// A command (the module exports `_start`): the component exports
    /// `wasi:cli/run`, which runs it.
    Command,
    /// A library (a reactor): the component exports what the module's
    /// embedded WIT world says, the module's `_initialize` run first.
    Reactor,
    /// None: the module imports nothing of WASI preview1, so the component
    /// is its embedded world alone.
    None,
}

impl Adapter {
    /// How the module was made a component, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Adapter::Command => "made a component with the WASI preview1 command adapter",
            Adapter::Reactor => "made a component with the WASI preview1 reactor adapter",
            Adapter::None => {
                "made a component of its embedded world (it imports no WASI, so it takes no adapter)"
            }
        }
    }
}

/// The core module `bytes` made a component with the preview1 adapter its
/// exports call for, and which adapter that was.
///
/// # Errors
///
/// When the module is not valid, or wit-component cannot adapt it (it
/// imports what is neither WASI preview1 nor in its embedded world, or
/// exports what its world does not name).
pub(crate) fn component(bytes: &[u8]) -> Result<(Vec<u8>, Adapter)> {
    let (imports_wasi, exports_start) = shape(bytes)?;
    let adapter = match (exports_start, imports_wasi) {
        (true, _) => Adapter::Command,
        (false, true) => Adapter::Reactor,
        (false, false) => Adapter::None,
    };
    // wit-component leaves out an adapter the module takes nothing from.
    let adapter_bytes = match adapter {
        Adapter::Command => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        Adapter::Reactor | Adapter::None => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    let component = wit_component::ComponentEncoder::default()
        .module(bytes)
        .context("cannot read the module")?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter_bytes)
        .context("cannot read the adapter")?
        .encode()?;
    Ok((component, adapter))
}

/// Whether the core module `bytes` imports from WASI preview1, and whether
/// it exports a function `_start`.
fn shape(bytes: &[u8]) -> Result<(bool, bool)> {
    let (mut imports_wasi, mut exports_start) = (false, false);
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.context("the module is not valid")? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.context("the module is not valid")?;
                    imports_wasi |= import.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME;
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.context("the module is not valid")?;
                    exports_start |= export.name == "_start" && export.kind == ExternalKind::Func;
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    Ok((imports_wasi, exports_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_exporting_start_is_a_command_and_runs_as_wasi_cli_run() {
        let module = wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                (memory (export "memory") 1)
                (func (export "_start")))"#,
        )
        .unwrap();
        let (made, adapter) = component(&module).unwrap();
        assert_eq!(adapter, Adapter::Command);
        let interface = crate::ComponentInterface::read(&made).unwrap();
        let exports: Vec<&str> = interface.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(exports, [format!("wasi:cli/run@{}", crate::WASI_VERSION)]);
        assert_eq!(
            crate::inspect::adapter(&made).as_deref(),
            Some(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME)
        );
    }

    #[test]
    fn a_module_without_start_is_a_reactor_and_one_without_wasi_takes_no_adapter() {
        let module = wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
                (memory (export "memory") 1))"#,
        )
        .unwrap();
        let (made, adapter) = component(&module).unwrap();
        assert_eq!(adapter, Adapter::Reactor);
        let interface = crate::ComponentInterface::read(&made).unwrap();
        assert!(interface.exports.is_empty(), "{:?}", interface.exports);
        let module = wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap();
        let (made, adapter) = component(&module).unwrap();
        assert_eq!(adapter, Adapter::None);
        let interface = crate::ComponentInterface::read(&made).unwrap();
        assert!(interface.exports.is_empty(), "{:?}", interface.exports);
    }
}
