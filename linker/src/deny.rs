//! Deny providers: inert components the linker synthesizes to satisfy the
//! imports a toolchain added to a component that was not granted them.
//!
//! A provider exports exactly the denied interfaces, typed as the component
//! imports them, and imports whatever those interfaces take types from
//! (bound to the same instances as the component's own imports, so resource
//! types stay equal). Every function returns the most "denied" value its type
//! allows, precomputed at link time:
//! - `result` → `err`, preferring an error case named like `access`,
//!   `access-denied`, `not-permitted` or `closed`;
//! - `option` → `none`; lists, strings and maps → empty; numbers → zero;
//!   records, tuples and variants built from those;
//! - a handle to a resource the provider itself exports (a denied stream, a
//!   denied file descriptor) → a fresh handle whose methods deny in turn.
//!
//! Only where no value can be made (a handle to a resource the host owns)
//! and for `wasi:random` (no predictable "random" bytes) and `wasi:cli/exit`
//! (it must not return) does a function trap.
//!
//! The core module is written with wasm-encoder; it holds a one-page memory
//! with the precomputed results and a bump allocator, reset on every call,
//! for arguments the caller copies in. wit-component wraps it into a
//! component from the embedded world.

use std::collections::HashMap;

use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction, MemArg, MemorySection,
    MemoryType, Module, NameMap, NameSection, TypeSection, ValType,
};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    Function as WitFunction, Handle, InterfaceId, Resolve, SizeAlign, Stability, Type, TypeDefKind,
    TypeId, TypeOwner, World, WorldId, WorldItem, WorldKey,
};

use crate::error::{ComposeError, ErrorKind};

/// Error cases a denied call returns, in order of preference.
const DENIED_CASES: &[&str] = &[
    "access",
    "access-denied",
    "not-permitted",
    "permission-denied",
    "denied",
    "HTTP-request-denied",
    "closed",
];

/// Answers other than the most denied value of their type, by interface
/// (without its version) and function: a denied stdout or stderr that the
/// provider makes itself accepts writes and discards them (an error there
/// makes Rust's `print!` panic), its pollables are ready at once, and a
/// denied HTTP request can be put together before sending it is refused.
const ANSWERS: &[(&str, &str, Answer)] = &[
    (
        STREAMS,
        "[method]output-stream.check-write",
        Answer::Ok(4096),
    ),
    (STREAMS, "[method]output-stream.write", Answer::Ok(0)),
    (
        STREAMS,
        "[method]output-stream.blocking-write-and-flush",
        Answer::Ok(0),
    ),
    (STREAMS, "[method]output-stream.flush", Answer::Ok(0)),
    (
        STREAMS,
        "[method]output-stream.blocking-flush",
        Answer::Ok(0),
    ),
    (STREAMS, "[method]output-stream.write-zeroes", Answer::Ok(0)),
    (
        STREAMS,
        "[method]output-stream.blocking-write-zeroes-and-flush",
        Answer::Ok(0),
    ),
    ("wasi:io/poll", "[method]pollable.ready", Answer::True),
    // A denied `wasi:http` lets a request be made up, then refuses to send
    // it: `handle` answers `HTTP-request-denied`.
    (HTTP, "[method]fields.set", Answer::Ok(0)),
    (HTTP, "[method]fields.delete", Answer::Ok(0)),
    (HTTP, "[method]fields.append", Answer::Ok(0)),
    (HTTP, "[method]outgoing-request.set-method", Answer::Ok(0)),
    (
        HTTP,
        "[method]outgoing-request.set-path-with-query",
        Answer::Ok(0),
    ),
    (HTTP, "[method]outgoing-request.set-scheme", Answer::Ok(0)),
    (
        HTTP,
        "[method]outgoing-request.set-authority",
        Answer::Ok(0),
    ),
    (
        HTTP,
        "[method]request-options.set-connect-timeout",
        Answer::Ok(0),
    ),
    (
        HTTP,
        "[method]request-options.set-first-byte-timeout",
        Answer::Ok(0),
    ),
    (
        HTTP,
        "[method]request-options.set-between-bytes-timeout",
        Answer::Ok(0),
    ),
    ("wasi:io/poll", "poll", Answer::FirstIndex),
];
const STREAMS: &str = "wasi:io/streams";
const HTTP: &str = "wasi:http/types";

/// What a function does other than return the most denied value of its type.
enum Special {
    /// Traps, for the reason given.
    Trap(&'static str),
    /// Gives this answer.
    Answer(Answer),
}

/// An answer from [`ANSWERS`].
#[derive(Clone, Copy)]
enum Answer {
    /// `ok`, with this number as its payload when it has one.
    Ok(u64),
    /// `true`.
    True,
    /// The list `[0]`: of the pollables given, the first is ready.
    FirstIndex,
}

fn internal(what: &str, e: impl std::fmt::Display) -> ComposeError {
    ComposeError::new(
        ErrorKind::Encoding,
        format!("cannot build a deny provider: {what}: {e}"),
    )
}

/// A synthesized deny provider.
pub(crate) struct Provider {
    /// The provider component.
    pub bytes: Vec<u8>,
    /// The names of the interfaces it imports (a subset of the component's
    /// imports).
    pub imports: Vec<String>,
}

/// Builds the deny provider for the interfaces `denied` (import names of
/// `world` in `resolve`, the component's decoded world).
pub(crate) fn provider(
    resolve: &Resolve,
    world: WorldId,
    denied: &[String],
) -> Result<Provider, ComposeError> {
    let mut resolve = resolve.clone();
    let imports = &resolve.worlds[world].imports;
    let mut exported: Vec<InterfaceId> = Vec::new();
    for name in denied {
        let id = imports
            .iter()
            .find_map(|(key, item)| match (key, item) {
                (WorldKey::Interface(id), _) if &resolve.name_world_key(key) == name => Some(*id),
                _ => None,
            })
            .ok_or_else(|| internal("the component does not import an interface", name))?;
        exported.push(id);
    }

    // What the denied interfaces take types from, and is not denied itself,
    // is imported, those it depends on first.
    fn add(resolve: &Resolve, id: InterfaceId, skip: &[InterfaceId], out: &mut Vec<InterfaceId>) {
        if out.contains(&id) {
            return;
        }
        let deps: Vec<_> = resolve.interface_direct_deps(id).collect();
        for dep in deps {
            add(resolve, dep, skip, out);
        }
        if !skip.contains(&id) {
            out.push(id);
        }
    }
    let mut imported = Vec::new();
    for id in &exported {
        let deps: Vec<_> = resolve.interface_direct_deps(*id).collect();
        for dep in deps {
            add(&resolve, dep, &exported, &mut imported);
        }
    }

    let item = |id: InterfaceId| {
        (
            WorldKey::Interface(id),
            WorldItem::Interface {
                id,
                stability: Stability::Unknown,
                span: Default::default(),
                docs: Default::default(),
                external_id: None,
            },
        )
    };
    let package = resolve.worlds[world].package;
    let deny_world = resolve.worlds.alloc(World {
        name: "deny".to_string(),
        imports: imported.iter().map(|id| item(*id)).collect(),
        exports: exported.iter().map(|id| item(*id)).collect(),
        package,
        docs: Default::default(),
        stability: Stability::Unknown,
        includes: Default::default(),
        span: Default::default(),
    });

    let mut module = CoreModule::new(&resolve, &exported).encode()?;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        deny_world,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| internal("embedding its world", e))?;
    let bytes = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| internal("encoding it as a component", format!("{e:#}")))?;
    let imports = imported
        .iter()
        .map(|id| resolve.name_world_key(&WorldKey::Interface(*id)))
        .collect();
    Ok(Provider { bytes, imports })
}

/// How a deny provider answers one function of a denied interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedAnswer {
    /// The interface, as `namespace:package/interface` without its version.
    pub interface: String,
    /// The function, as the component model names it (`get-stdout`,
    /// `[method]descriptor.read`).
    pub function: String,
    /// The answer in words: the value returned (`err(access)`, `none`,
    /// `[]`), or why it traps.
    pub answer: String,
}

/// How the deny provider the linker would make for `interfaces` (of
/// `resolve`) answers each of their functions, in the order they are
/// declared: the table SECURITY.md shows.
pub fn denied_answers(resolve: &Resolve, interfaces: &[InterfaceId]) -> Vec<DeniedAnswer> {
    let module = CoreModule::new(resolve, interfaces);
    let mut rows = Vec::new();
    for &iface in interfaces {
        let name = module.interface_name(iface);
        let base = name.split('@').next().unwrap_or_default().to_string();
        for func in resolve.interfaces[iface].functions.values() {
            rows.push(DeniedAnswer {
                interface: base.clone(),
                function: func.name.clone(),
                answer: module.describe_function(&name, func),
            });
        }
    }
    rows
}

/// A value laid out in linear memory: the bytes that are not zero, and the
/// places where a fresh handle to a resource the provider owns goes.
#[derive(Default, Clone)]
struct Layout {
    bytes: Vec<(usize, u64, usize)>,
    handles: Vec<(usize, TypeId)>,
}

/// What one exported function does.
enum Body {
    /// Returns nothing.
    Nothing,
    /// Traps: no value can be made, or returning would be wrong.
    Trap,
    /// Returns the single flat value that `layout` (at offset 0) holds.
    Flat(WasmType, Layout),
    /// Writes the handles of `layout` into the result area at `area`, then
    /// returns a pointer to it.
    Area(usize, Layout),
}

struct CoreModule<'a> {
    resolve: &'a Resolve,
    sizes: SizeAlign,
    exported: &'a [InterfaceId],
}

impl<'a> CoreModule<'a> {
    fn new(resolve: &'a Resolve, exported: &'a [InterfaceId]) -> Self {
        let mut sizes = SizeAlign::default();
        sizes.fill(resolve);
        Self {
            resolve,
            sizes,
            exported,
        }
    }

    /// The interface that defines `ty`'s resource, when `ty` is one.
    fn resource(&self, mut ty: TypeId) -> Option<(TypeId, InterfaceId)> {
        loop {
            let def = &self.resolve.types[ty];
            match &def.kind {
                TypeDefKind::Type(Type::Id(next)) => ty = *next,
                TypeDefKind::Resource => {
                    return match def.owner {
                        TypeOwner::Interface(id) => Some((ty, id)),
                        _ => None,
                    };
                }
                _ => return None,
            }
        }
    }

    /// Lays out the "denied" value of `ty` at `at`; `None` when none can be
    /// made. `error` says the value is the error of a `result`.
    fn deny(&self, ty: &Type, at: usize, error: bool) -> Option<Layout> {
        let Type::Id(id) = ty else {
            return match ty {
                Type::ErrorContext => None,
                _ => Some(Layout::default()),
            };
        };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Type(inner) => self.deny(inner, at, error),
            TypeDefKind::Record(record) => self.fields(record.fields.iter().map(|f| &f.ty), at),
            TypeDefKind::Tuple(tuple) => self.fields(tuple.types.iter(), at),
            TypeDefKind::FixedLengthList(elem, n) => {
                self.fields(std::iter::repeat_n(elem, *n as usize), at)
            }
            TypeDefKind::Flags(_)
            | TypeDefKind::Option(_)
            | TypeDefKind::List(_)
            | TypeDefKind::Map(..) => Some(Layout::default()),
            TypeDefKind::Enum(e) => {
                let case = if error {
                    preferred(e.cases.iter().map(|c| c.name.as_str())).unwrap_or(0)
                } else {
                    0
                };
                let mut layout = Layout::default();
                push_int(&mut layout, at, case as u64, e.tag());
                Some(layout)
            }
            TypeDefKind::Variant(v) => {
                let payload = at
                    + self
                        .sizes
                        .payload_offset(v.tag(), v.cases.iter().map(|c| c.ty.as_ref()))
                        .size_wasm32();
                let make = |i: usize| {
                    let mut layout = match &v.cases[i].ty {
                        Some(ty) => self.deny(ty, payload, false)?,
                        None => Layout::default(),
                    };
                    push_int(&mut layout, at, i as u64, v.tag());
                    Some(layout)
                };
                let first = error
                    .then(|| preferred(v.cases.iter().map(|c| c.name.as_str())))
                    .flatten();
                first
                    .and_then(make)
                    .or_else(|| (0..v.cases.len()).find_map(make))
            }
            TypeDefKind::Result(r) => {
                let payload = at
                    + self
                        .sizes
                        .payload_offset(wit_parser::Int::U8, [r.ok.as_ref(), r.err.as_ref()])
                        .size_wasm32();
                let err = match &r.err {
                    Some(ty) => self.deny(ty, payload, true),
                    None => Some(Layout::default()),
                };
                if let Some(mut layout) = err {
                    push_int(&mut layout, at, 1, wit_parser::Int::U8);
                    return Some(layout);
                }
                match &r.ok {
                    Some(ty) => self.deny(ty, payload, false),
                    None => Some(Layout::default()),
                }
            }
            TypeDefKind::Handle(Handle::Own(resource)) => {
                let (resource, owner) = self.resource(*resource)?;
                self.exported.contains(&owner).then(|| Layout {
                    bytes: Vec::new(),
                    handles: vec![(at, resource)],
                })
            }
            TypeDefKind::Handle(Handle::Borrow(_))
            | TypeDefKind::Resource
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Unknown => None,
        }
    }

    fn fields<'t>(&self, types: impl Iterator<Item = &'t Type>, at: usize) -> Option<Layout> {
        let types: Vec<&Type> = types.collect();
        let mut layout = Layout::default();
        for (offset, ty) in self.sizes.field_offsets(types.iter().copied()) {
            let field = self.deny(ty, at + offset.size_wasm32(), false)?;
            layout.bytes.extend(field.bytes);
            layout.handles.extend(field.handles);
        }
        Some(layout)
    }

    fn encode(&self) -> Result<Vec<u8>, ComposeError> {
        let mut types = TypeSection::new();
        let mut type_of: HashMap<(Vec<ValType>, Vec<ValType>), u32> = HashMap::new();
        let mut func_type = |params: Vec<ValType>, results: Vec<ValType>| {
            let next = type_of.len() as u32;
            *type_of
                .entry((params.clone(), results.clone()))
                .or_insert_with(|| {
                    types.ty().function(params, results);
                    next
                })
        };

        // `[resource-new]` for every resource the provider exports.
        let mut imports = ImportSection::new();
        let mut resource_new: HashMap<TypeId, u32> = HashMap::new();
        for &iface in self.exported {
            let name = self.interface_name(iface);
            for (resource_name, &ty) in &self.resolve.interfaces[iface].types {
                if matches!(self.resolve.types[ty].kind, TypeDefKind::Resource) {
                    let t = func_type(vec![ValType::I32], vec![ValType::I32]);
                    imports.import(
                        &format!("[export]{name}"),
                        &format!("[resource-new]{resource_name}"),
                        EntityType::Function(t),
                    );
                    resource_new.insert(ty, resource_new.len() as u32);
                }
            }
        }
        let imported_funcs = resource_new.len() as u32;

        // Each function's body, and the result areas in the static data.
        let mut data: Vec<u8> = vec![0; 16];
        let mut exports_list = Vec::new();
        for &iface in self.exported {
            let name = self.interface_name(iface);
            for func in self.resolve.interfaces[iface].functions.values() {
                let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
                let body = self.body(&name, func, &mut data);
                let params = sig.params.iter().map(|t| val_type(*t)).collect();
                let results = sig.results.iter().map(|t| val_type(*t)).collect();
                exports_list.push((
                    format!("{name}#{}", func.name),
                    func_type(params, results),
                    body,
                ));
            }
        }
        let heap_base = align(data.len(), 8) as i32;
        let realloc_type = func_type(vec![ValType::I32; 4], vec![ValType::I32]);

        let mut functions = FunctionSection::new();
        let mut code = CodeSection::new();
        let mut exports = ExportSection::new();
        exports.export("memory", ExportKind::Memory, 0);
        let bump = 0;
        let reset = [
            Instruction::I32Const(heap_base),
            Instruction::GlobalSet(bump),
        ];
        let mut func_names = NameMap::new();
        for (i, (name, ty, body)) in exports_list.iter().enumerate() {
            functions.function(*ty);
            let mut f = Function::new([]);
            for ins in &reset {
                f.instruction(ins);
            }
            let store_handle = |f: &mut Function, at: usize, ty: TypeId| {
                f.instruction(&Instruction::I32Const(at as i32));
                f.instruction(&Instruction::I32Const(0));
                f.instruction(&Instruction::Call(resource_new[&ty]));
                f.instruction(&Instruction::I32Store(MemArg {
                    offset: 0,
                    align: 2,
                    memory_index: 0,
                }));
            };
            match body {
                Body::Nothing => {}
                Body::Trap => {
                    f.instruction(&Instruction::Unreachable);
                }
                Body::Area(area, layout) => {
                    for &(at, ty) in &layout.handles {
                        store_handle(&mut f, at, ty);
                    }
                    f.instruction(&Instruction::I32Const(*area as i32));
                }
                Body::Flat(flat, layout) => {
                    if let Some(&(_, ty)) = layout.handles.first() {
                        f.instruction(&Instruction::I32Const(0));
                        f.instruction(&Instruction::Call(resource_new[&ty]));
                    } else {
                        let value = layout
                            .bytes
                            .iter()
                            .fold(0u64, |acc, &(at, v, _)| acc | (v << (8 * at)));
                        f.instruction(&match val_type(*flat) {
                            ValType::I64 => Instruction::I64Const(value as i64),
                            ValType::F32 => Instruction::F32Const(0.0.into()),
                            ValType::F64 => Instruction::F64Const(0.0.into()),
                            _ => Instruction::I32Const(value as i32),
                        });
                    }
                }
            }
            f.instruction(&Instruction::End);
            code.function(&f);
            exports.export(name, ExportKind::Func, imported_funcs + i as u32);
            // Backtraces through the provider say what was denied.
            func_names.append(imported_funcs + i as u32, &format!("denied {name}"));
        }

        // cabi_realloc: a bump allocator for arguments copied in by callers.
        functions.function(realloc_type);
        exports.export(
            "cabi_realloc",
            ExportKind::Func,
            imported_funcs + exports_list.len() as u32,
        );
        code.function(&realloc());

        let mut memories = MemorySection::new();
        let pages = (heap_base as u64).div_ceil(65536).max(1);
        memories.memory(MemoryType {
            minimum: pages,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut globals = GlobalSection::new();
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(heap_base),
        );
        let mut datas = DataSection::new();
        datas.active(0, &ConstExpr::i32_const(0), data);

        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&memories)
            .section(&globals)
            .section(&exports)
            .section(&code)
            .section(&datas);
        let mut names = NameSection::new();
        names.functions(&func_names);
        module.section(&names);
        Ok(module.finish())
    }

    /// What the function `func` of the interface `name` does, with any
    /// result area or list it needs added to the static `data`.
    fn body(&self, name: &str, func: &WitFunction, data: &mut Vec<u8>) -> Body {
        let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
        match (&func.result, self.special(name, func)) {
            (_, Some(Special::Trap(_))) => Body::Trap,
            (None, _) => Body::Nothing,
            (Some(ty), Some(Special::Answer(answer))) => {
                let layout = self.answer(ty, answer, data);
                self.place(ty, layout, &sig, data)
            }
            (Some(ty), None) => match self.deny(ty, 0, false) {
                Some(layout) => self.place(ty, layout, &sig, data),
                None => Body::Trap,
            },
        }
    }

    /// The body that returns `layout` (a value of `ty` laid out from offset
    /// 0) as a function of signature `sig` does: as one flat value, or from
    /// a result area added to the static `data`.
    fn place(
        &self,
        ty: &Type,
        layout: Layout,
        sig: &wit_parser::abi::WasmSignature,
        data: &mut Vec<u8>,
    ) -> Body {
        if !sig.retptr {
            return Body::Flat(sig.results[0], layout);
        }
        let area = align(data.len(), 8);
        data.resize(area + self.sizes.size(ty).size_wasm32(), 0);
        for &(at, value, width) in &layout.bytes {
            data[area + at..area + at + width].copy_from_slice(&value.to_le_bytes()[..width]);
        }
        let handles = layout
            .handles
            .iter()
            .map(|&(at, resource)| (area + at, resource))
            .collect();
        Body::Area(
            area,
            Layout {
                bytes: Vec::new(),
                handles,
            },
        )
    }

    /// What the function `func` of the interface `name` does differently
    /// from returning the most denied value of its type.
    fn special(&self, name: &str, func: &WitFunction) -> Option<Special> {
        let base = name.split('@').next().unwrap_or_default();
        if base.starts_with("wasi:random/") {
            return Some(Special::Trap(
                "no bytes are safe to hand out as random: a caller may make keys of them",
            ));
        }
        if base == "wasi:cli/exit" {
            return Some(Special::Trap("exiting must not return"));
        }
        ANSWERS
            .iter()
            .find(|(i, f, _)| *i == base && *f == func.name)
            .map(|(_, _, answer)| Special::Answer(*answer))
    }

    /// The answer of the function `func` of the interface `name`, in words.
    fn describe_function(&self, name: &str, func: &WitFunction) -> String {
        match (&func.result, self.special(name, func)) {
            (_, Some(Special::Trap(why))) => format!("traps: {why}"),
            (None, _) => "returns".to_string(),
            (Some(_), Some(Special::Answer(Answer::Ok(0)))) if name.starts_with(STREAMS) => {
                "ok: accepted and discarded".into()
            }
            (Some(_), Some(Special::Answer(Answer::Ok(0)))) => "ok".into(),
            (Some(_), Some(Special::Answer(Answer::Ok(n)))) => format!("ok({n})"),
            (Some(_), Some(Special::Answer(Answer::True))) => "true".into(),
            (Some(_), Some(Special::Answer(Answer::FirstIndex))) => {
                "[0]: the first is ready".into()
            }
            (Some(ty), None) => match self.deny(ty, 0, false) {
                Some(_) => self.describe(ty, false),
                None => {
                    "traps: no value can be made (it would be a handle to a resource of the host's)"
                        .into()
                }
            },
        }
    }

    /// The most denied value of `ty`, in words; `ty` must have one.
    fn describe(&self, ty: &Type, error: bool) -> String {
        let Type::Id(id) = ty else {
            return match ty {
                Type::Bool => "false".into(),
                Type::String => "\"\"".into(),
                Type::Char => "'\\0'".into(),
                _ => "0".into(),
            };
        };
        let def = &self.resolve.types[*id];
        match &def.kind {
            TypeDefKind::Type(inner) => self.describe(inner, error),
            TypeDefKind::Record(record) => {
                let fields: Vec<String> = record
                    .fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, self.describe(&f.ty, false)))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
            TypeDefKind::Tuple(tuple) => {
                let items: Vec<String> = tuple
                    .types
                    .iter()
                    .map(|t| self.describe(t, false))
                    .collect();
                format!("({})", items.join(", "))
            }
            TypeDefKind::FixedLengthList(elem, n) => {
                format!("[{}; {n}]", self.describe(elem, false))
            }
            TypeDefKind::Flags(_) => "no flags".into(),
            TypeDefKind::Option(_) => "none".into(),
            TypeDefKind::List(_) | TypeDefKind::Map(..) => "[]".into(),
            TypeDefKind::Enum(e) => {
                let case = if error {
                    preferred(e.cases.iter().map(|c| c.name.as_str())).unwrap_or(0)
                } else {
                    0
                };
                e.cases[case].name.clone()
            }
            TypeDefKind::Variant(v) => {
                let possible = |i: usize| {
                    v.cases[i]
                        .ty
                        .as_ref()
                        .is_none_or(|ty| self.deny(ty, 0, false).is_some())
                };
                let first = error
                    .then(|| preferred(v.cases.iter().map(|c| c.name.as_str())))
                    .flatten()
                    .filter(|i| possible(*i));
                let Some(i) = first.or_else(|| (0..v.cases.len()).find(|i| possible(*i))) else {
                    return "(none)".into();
                };
                match &v.cases[i].ty {
                    Some(ty) => format!("{}({})", v.cases[i].name, self.describe(ty, false)),
                    None => v.cases[i].name.clone(),
                }
            }
            TypeDefKind::Result(r) => {
                let err_possible = r
                    .err
                    .as_ref()
                    .is_none_or(|ty| self.deny(ty, 0, true).is_some());
                if err_possible {
                    match &r.err {
                        Some(ty) => format!("err({})", self.describe(ty, true)),
                        None => "err".into(),
                    }
                } else {
                    match &r.ok {
                        Some(ty) => format!("ok({})", self.describe(ty, false)),
                        None => "ok".into(),
                    }
                }
            }
            TypeDefKind::Handle(Handle::Own(resource)) => {
                let name = self
                    .resource(*resource)
                    .and_then(|(r, _)| self.resolve.types[r].name.clone())
                    .unwrap_or_default();
                format!("a new `{name}` of its own, whose methods answer in turn")
            }
            _ => "(none)".into(),
        }
    }

    /// The value of `ty` that `answer` gives, laid out from offset 0, with
    /// any list it points to added to the static `data`.
    fn answer(&self, ty: &Type, answer: Answer, data: &mut Vec<u8>) -> Layout {
        let mut layout = Layout::default();
        match answer {
            Answer::True => push_int(&mut layout, 0, 1, wit_parser::Int::U8),
            Answer::FirstIndex => {
                // A `u32` 0 to point at, then the list's pointer and length.
                let element = align(data.len(), 4);
                data.resize(element + 4, 0);
                push_int(&mut layout, 0, element as u64, wit_parser::Int::U32);
                push_int(&mut layout, 4, 1, wit_parser::Int::U32);
            }
            Answer::Ok(value) => {
                // The tag `ok` is 0; the payload follows it.
                if let Type::Id(id) = ty
                    && let TypeDefKind::Result(r) = &self.resolve.types[*id].kind
                    && let Some(ok) = &r.ok
                {
                    let payload = self
                        .sizes
                        .payload_offset(wit_parser::Int::U8, [r.ok.as_ref(), r.err.as_ref()])
                        .size_wasm32();
                    let width = match self.sizes.size(ok).size_wasm32() {
                        8 => wit_parser::Int::U64,
                        4 => wit_parser::Int::U32,
                        2 => wit_parser::Int::U16,
                        _ => wit_parser::Int::U8,
                    };
                    push_int(&mut layout, payload, value, width);
                }
            }
        }
        layout
    }

    fn interface_name(&self, id: InterfaceId) -> String {
        self.resolve.name_world_key(&WorldKey::Interface(id))
    }
}

/// `cabi_realloc(old, old_size, align, size)`: bumps a pointer, growing the
/// memory when needed, and traps when it cannot.
fn realloc() -> Function {
    use Instruction as I;
    let (align_param, size_param, aligned, end) = (2, 3, 4, 5);
    let mut f = Function::new([(2, ValType::I32)]);
    for ins in [
        // aligned = (bump + align - 1) & -align
        I::GlobalGet(0),
        I::LocalGet(align_param),
        I::I32Add,
        I::I32Const(1),
        I::I32Sub,
        I::I32Const(0),
        I::LocalGet(align_param),
        I::I32Sub,
        I::I32And,
        I::LocalTee(aligned),
        // end = aligned + size; trap on wrap-around
        I::LocalGet(size_param),
        I::I32Add,
        I::LocalTee(end),
        I::LocalGet(aligned),
        I::I32LtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::Unreachable,
        I::End,
        // grow when end is past the memory
        I::LocalGet(end),
        I::MemorySize(0),
        I::I32Const(16),
        I::I32Shl,
        I::I32GtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::LocalGet(end),
        I::MemorySize(0),
        I::I32Const(16),
        I::I32Shl,
        I::I32Sub,
        I::I32Const(65535),
        I::I32Add,
        I::I32Const(16),
        I::I32ShrU,
        I::MemoryGrow(0),
        I::I32Const(-1),
        I::I32Eq,
        I::If(wasm_encoder::BlockType::Empty),
        I::Unreachable,
        I::End,
        I::End,
        I::LocalGet(end),
        I::GlobalSet(0),
        I::LocalGet(aligned),
        I::End,
    ] {
        f.instruction(&ins);
    }
    f
}

fn preferred<'n>(names: impl Iterator<Item = &'n str> + Clone) -> Option<usize> {
    DENIED_CASES
        .iter()
        .find_map(|want| names.clone().position(|n| n == *want))
}

fn push_int(layout: &mut Layout, at: usize, value: u64, tag: wit_parser::Int) {
    let width = match tag {
        wit_parser::Int::U8 => 1,
        wit_parser::Int::U16 => 2,
        wit_parser::Int::U32 => 4,
        wit_parser::Int::U64 => 8,
    };
    if value != 0 {
        layout.bytes.push((at, value, width));
    }
}

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

fn val_type(t: WasmType) -> ValType {
    match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
        WasmType::F32 => ValType::F32,
        WasmType::F64 => ValType::F64,
    }
}
