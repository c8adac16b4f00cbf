//! The core module of a deny provider, written with wasm-encoder. It imports
//! `[resource-new]` for each resource the provider exports, exports every
//! function of the denied interfaces as `INTERFACE#FUNCTION` and a one-page
//! (or larger) memory whose static data holds the results laid out at link
//! time, and a bump allocator, `cabi_realloc`, for arguments callers copy
//! in. Every function resets the allocator first, then returns its answer.
//! wit-component wraps the module into the provider component.

use std::collections::HashMap;

use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction, MemArg,
    MemorySection, MemoryType, Module, NameMap, NameSection, TypeSection, ValType,
};
use wit_parser::abi::{AbiVariant, WasmSignature, WasmType};
use wit_parser::{
    Function as WitFunction, FutureIntrinsic, InterfaceId, LiftLowerAbi, ManglingAndAbi, Resolve,
    SizeAlign, StreamIntrinsic, Type, TypeDefKind, TypeId, WasmImport, WorldKey,
};

use super::answers::Special;
use super::layout::{Fresh, Layout, align};
use crate::error::ComposeError;

/// The core module of the deny provider for the interfaces `exported`.
pub(super) struct CoreModule<'a> {
    pub(super) resolve: &'a Resolve,
    /// The sizes and alignments of the types of `resolve`.
    pub(super) sizes: SizeAlign,
    pub(super) exported: &'a [InterfaceId],
}

/// What one exported function does.
pub(super) enum Body {
    /// Returns nothing.
    Nothing,
    /// Traps: no value can be made, or returning would be wrong.
    Trap,
    /// Returns the single flat value that `layout` (at offset 0) holds.
    Flat(WasmType, Layout),
    /// Returns the one handle it makes.
    FlatMade(Made),
    /// Writes the handles it makes into the result area at `area`, each at
    /// its offset, then returns a pointer to it.
    Area(usize, Vec<(usize, Made)>),
}

impl Body {
    /// Whether it makes a handle that `what` is true of.
    fn makes(&self, what: impl Fn(&Made) -> bool) -> bool {
        match self {
            Body::FlatMade(made) => what(made),
            Body::Area(_, made) => made.iter().any(|(_, m)| what(m)),
            _ => false,
        }
    }
}

/// A handle a function makes when called (a [`Fresh`] placed).
pub(super) enum Made {
    /// A handle to this resource of the provider's.
    Resource(TypeId),
    /// The readable end of a stream of this type that has ended.
    Stream(TypeId),
    /// The readable end of a future of this type, resolved to the value
    /// at this offset of the static data.
    Future(TypeId, usize),
}

/// One function of a denied interface, as the module exports it.
struct Export<'a> {
    /// `INTERFACE#FUNCTION`.
    name: String,
    /// The interface, as the provider exports it.
    key: WorldKey,
    func: &'a WitFunction,
    /// The index of its function type.
    ty: u32,
    body: Body,
    /// The flat parameters that are the readable end of a stream or a
    /// future the caller hands over, with their types: dropped at once.
    dropped: Vec<(u32, TypeId)>,
}

/// The functions the module imports, each once, numbered in the order
/// they are first asked for.
#[derive(Default)]
struct Imports {
    section: ImportSection,
    index: HashMap<(String, String), u32>,
}

impl Imports {
    /// The index of the function `module` `name` of type `params ->
    /// results`, imported.
    fn func(
        &mut self,
        types: &mut Types,
        (module, name): (String, String),
        params: Vec<ValType>,
        results: Vec<ValType>,
    ) -> u32 {
        let next = self.index.len() as u32;
        *self
            .index
            .entry((module.clone(), name.clone()))
            .or_insert_with(|| {
                let ty = types.function(params, results);
                self.section
                    .import(&module, &name, EntityType::Function(ty));
                next
            })
    }
}

/// The function types of the module, each added once and numbered in the
/// order they are first asked for.
#[derive(Default)]
struct Types {
    section: TypeSection,
    index: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
}

impl Types {
    /// The index of the function type `params -> results`.
    fn function(&mut self, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        let next = self.index.len() as u32;
        *self
            .index
            .entry((params.clone(), results.clone()))
            .or_insert_with(|| {
                self.section.ty().function(params, results);
                next
            })
    }
}

/// The functions the module defines, in the sections that hold them.
#[derive(Default)]
struct Functions {
    functions: FunctionSection,
    code: CodeSection,
    exports: ExportSection,
    names: NameMap,
}

impl<'a> CoreModule<'a> {
    pub(super) fn new(resolve: &'a Resolve, exported: &'a [InterfaceId]) -> Self {
        let mut sizes = SizeAlign::default();
        sizes.fill(resolve);
        Self {
            resolve,
            sizes,
            exported,
        }
    }

    /// The name of the interface `id` as the component imports it.
    pub(super) fn interface_name(&self, id: InterfaceId) -> String {
        self.resolve.name_world_key(&WorldKey::Interface(id))
    }

    /// The module's bytes.
    pub(super) fn encode(&self) -> Result<Vec<u8>, ComposeError> {
        let mut types = Types::default();
        let mut imports = Imports::default();
        let resource_new = self.resource_new(&mut types, &mut imports);
        // The static data starts with 16 bytes of zeros, then the result
        // areas and the values of futures, then 8 bytes where a poll of a
        // waitable set writes its event; the heap the allocator hands out
        // follows.
        let mut data: Vec<u8> = vec![0; 16];
        let exports = self.exports(&mut types, &mut data);
        let event = align(data.len(), 4);
        if exports
            .iter()
            .any(|e| e.body.makes(|m| matches!(m, Made::Future(..))))
        {
            data.resize(event + 8, 0);
        }
        let heap_base = align(data.len(), 8) as i32;
        let mut code = Code {
            types: &mut types,
            imports: &mut imports,
            resource_new: &resource_new,
            heap_base,
            event: event as i32,
            sets: 0,
        };
        let bodies: Vec<Function> = exports.iter().map(|e| code.export(self, e)).collect();
        let sets = code.sets;
        let realloc_type = types.function(vec![ValType::I32; 4], vec![ValType::I32]);
        let functions = functions(&exports, bodies, realloc_type, imports.index.len() as u32);

        let mut datas = DataSection::new();
        datas.active(0, &ConstExpr::i32_const(0), data);
        let mut names = NameSection::new();
        names.functions(&functions.names);
        let mut module = Module::new();
        module
            .section(&types.section)
            .section(&imports.section)
            .section(&functions.functions)
            .section(&memory(heap_base))
            .section(&globals(heap_base, sets))
            .section(&functions.exports)
            .section(&functions.code)
            .section(&datas)
            .section(&names);
        Ok(module.finish())
    }

    /// Imports `[resource-new]` for every resource the provider exports,
    /// and the index of each of those functions by resource.
    fn resource_new(&self, types: &mut Types, imports: &mut Imports) -> HashMap<TypeId, u32> {
        let mut resource_new: HashMap<TypeId, u32> = HashMap::new();
        for &iface in self.exported {
            let name = self.interface_name(iface);
            for (resource_name, &ty) in &self.resolve.interfaces[iface].types {
                if matches!(self.resolve.types[ty].kind, TypeDefKind::Resource) {
                    let index = imports.func(
                        types,
                        (
                            format!("[export]{name}"),
                            format!("[resource-new]{resource_name}"),
                        ),
                        vec![ValType::I32],
                        vec![ValType::I32],
                    );
                    resource_new.insert(ty, index);
                }
            }
        }
        resource_new
    }

    /// Every function of the denied interfaces, in the order they are
    /// declared, with the result areas they need added to the static `data`.
    fn exports(&self, types: &mut Types, data: &mut Vec<u8>) -> Vec<Export<'a>> {
        let mut exports = Vec::new();
        for &iface in self.exported {
            let name = self.interface_name(iface);
            for func in self.resolve.interfaces[iface].functions.values() {
                let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
                let body = self.body(&name, func, data);
                let params = sig.params.iter().map(|t| val_type(*t)).collect();
                let results = sig.results.iter().map(|t| val_type(*t)).collect();
                let dropped = if sig.indirect_params {
                    Vec::new()
                } else {
                    self.handed_over(func)
                        .into_iter()
                        .map(|(flat, ty, _)| (flat, ty))
                        .collect()
                };
                exports.push(Export {
                    name: format!("{name}#{}", func.name),
                    key: WorldKey::Interface(iface),
                    func,
                    ty: types.function(params, results),
                    body,
                    dropped,
                });
            }
        }
        exports
    }

    /// The parameters of `func` that are themselves a stream or a future,
    /// by their index among the flat parameters, with their types and
    /// names.
    pub(super) fn handed_over<'f>(&self, func: &'f WitFunction) -> Vec<(u32, TypeId, &'f str)> {
        let mut handed = Vec::new();
        let mut flat = 0u32;
        for param in &func.params {
            if let Some(ty) = self.stream_or_future(&param.ty) {
                handed.push((flat, ty, param.name.as_str()));
            }
            // Only called when the parameters are flat: at most 16.
            let mut storage = [WasmType::I32; 16];
            let mut flats = wit_parser::abi::FlatTypes::new(&mut storage);
            self.resolve.push_flat(&param.ty, &mut flats);
            flat += flats.to_vec().len() as u32;
        }
        handed
    }

    /// The stream or future type `ty` is, through any aliases.
    pub(super) fn stream_or_future(&self, ty: &Type) -> Option<TypeId> {
        let &Type::Id(mut id) = ty else {
            return None;
        };
        loop {
            match &self.resolve.types[id].kind {
                TypeDefKind::Type(Type::Id(next)) => id = *next,
                TypeDefKind::Stream(_) | TypeDefKind::Future(_) => return Some(id),
                _ => return None,
            }
        }
    }

    /// What the function `func` of the interface `name` does, with any
    /// result area or list it needs added to the static `data`.
    pub(super) fn body(&self, name: &str, func: &WitFunction, data: &mut Vec<u8>) -> Body {
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
    pub(super) fn place(
        &self,
        ty: &Type,
        layout: Layout,
        sig: &WasmSignature,
        data: &mut Vec<u8>,
    ) -> Body {
        if !sig.retptr {
            return match layout.handles.first() {
                Some((_, fresh)) => Body::FlatMade(self.made(fresh.clone(), data)),
                None => Body::Flat(sig.results[0], layout),
            };
        }
        let area = self.write(ty, &layout, data);
        let handles = layout
            .handles
            .into_iter()
            .map(|(at, fresh)| (area + at, self.made(fresh, data)))
            .collect();
        Body::Area(area, handles)
    }

    /// Adds the bytes of `layout`, a value of `ty`, to the static `data`,
    /// and returns where they start.
    fn write(&self, ty: &Type, layout: &Layout, data: &mut Vec<u8>) -> usize {
        let area = align(data.len(), 8);
        data.resize(area + self.sizes.size(ty).size_wasm32(), 0);
        for &(at, value, width) in &layout.bytes {
            data[area + at..area + at + width].copy_from_slice(&value.to_le_bytes()[..width]);
        }
        area
    }

    /// What makes `fresh`, with a future's value added to the static `data`.
    fn made(&self, fresh: Fresh, data: &mut Vec<u8>) -> Made {
        match fresh {
            Fresh::Resource(resource) => Made::Resource(resource),
            Fresh::Stream(ty) => Made::Stream(ty),
            Fresh::Future(ty, value) => {
                let at = match &self.resolve.types[ty].kind {
                    TypeDefKind::Future(Some(payload)) => self.write(payload, &value, data),
                    _ => 0,
                };
                Made::Future(ty, at)
            }
        }
    }
}

/// The functions the module defines and exports: `exports` with their
/// `bodies`, then `cabi_realloc` (of type `realloc_type`), numbered after
/// the `imported` functions. The memory is exported too.
fn functions(
    exports: &[Export],
    bodies: Vec<Function>,
    realloc_type: u32,
    imported: u32,
) -> Functions {
    let mut out = Functions::default();
    out.exports.export("memory", ExportKind::Memory, 0);
    for (i, (export, body)) in exports.iter().zip(bodies).enumerate() {
        let index = imported + i as u32;
        out.functions.function(export.ty);
        out.code.function(&body);
        out.exports.export(&export.name, ExportKind::Func, index);
        // Backtraces through the provider say what was denied.
        out.names.append(index, &format!("denied {}", export.name));
    }
    out.functions.function(realloc_type);
    out.exports.export(
        "cabi_realloc",
        ExportKind::Func,
        imported + exports.len() as u32,
    );
    out.code.function(&realloc());
    out
}

/// What writing the code of the exported functions needs: the imports it
/// adds to, and the globals it takes for waitable sets.
struct Code<'t> {
    types: &'t mut Types,
    imports: &'t mut Imports,
    resource_new: &'t HashMap<TypeId, u32>,
    heap_base: i32,
    /// Where a poll of a waitable set writes its event.
    event: i32,
    /// How many globals after [`BUMP`] hold a waitable set.
    sets: u32,
}

/// The locals of an exported function after its parameters: a stream's or
/// future's two ends, then one end.
const PAIR: u32 = 0;
const END: u32 = 1;

impl Code<'_> {
    /// The code of `export`: reset the bump allocator, drop what the
    /// caller handed over, then answer.
    fn export(&mut self, module: &CoreModule<'_>, export: &Export) -> Function {
        use Instruction as I;
        let params = self.types_of(export).0.len() as u32;
        let (pair, end) = (params + PAIR, params + END);
        let ends = export
            .body
            .makes(|m| matches!(m, Made::Stream(_) | Made::Future(..)));
        let mut f = if ends {
            Function::new([(1, ValType::I64), (1, ValType::I32)])
        } else {
            Function::new([])
        };
        f.instruction(&I::I32Const(self.heap_base));
        f.instruction(&I::GlobalSet(BUMP));
        for &(flat, ty) in &export.dropped {
            f.instruction(&I::LocalGet(flat));
            let drop = self.drop_readable(module, export, ty);
            f.instruction(&I::Call(drop));
        }
        match &export.body {
            Body::Nothing => {}
            Body::Trap => {
                f.instruction(&I::Unreachable);
            }
            Body::Area(area, made) => {
                for (at, made) in made {
                    f.instruction(&I::I32Const(*at as i32));
                    self.make(&mut f, module, export, made, pair, end);
                    f.instruction(&I::I32Store(MemArg {
                        offset: 0,
                        align: 2,
                        memory_index: 0,
                    }));
                }
                f.instruction(&I::I32Const(*area as i32));
            }
            Body::FlatMade(made) => self.make(&mut f, module, export, made, pair, end),
            Body::Flat(flat, layout) => {
                f.instruction(&flat_value(*flat, layout));
            }
        }
        f.instruction(&I::End);
        f
    }

    /// The flat parameter and result types of `export`'s function type.
    fn types_of(&self, export: &Export) -> (Vec<ValType>, Vec<ValType>) {
        self.types
            .index
            .iter()
            .find(|(_, i)| **i == export.ty)
            .map(|(k, _)| k.clone())
            .expect("every export's type is in the type section")
    }

    /// Leaves on the stack a handle to what `made` says, made now.
    fn make(
        &mut self,
        f: &mut Function,
        module: &CoreModule<'_>,
        export: &Export,
        made: &Made,
        pair: u32,
        end: u32,
    ) {
        use Instruction as I;
        let high = [
            I::LocalGet(pair),
            I::I64Const(32),
            I::I64ShrU,
            I::I32WrapI64,
        ];
        match made {
            Made::Resource(resource) => {
                f.instruction(&I::I32Const(REP));
                f.instruction(&I::Call(self.resource_new[resource]));
            }
            Made::Stream(ty) => {
                let new = self.stream(module, export, *ty, StreamIntrinsic::New);
                let drop = self.stream(module, export, *ty, StreamIntrinsic::DropWritable);
                // The writable end (the high half) goes at once: the
                // reader sees the stream end.
                f.instruction(&I::Call(new));
                f.instruction(&I::LocalSet(pair));
                for ins in &high {
                    f.instruction(ins);
                }
                f.instruction(&I::Call(drop));
                f.instruction(&I::LocalGet(pair));
                f.instruction(&I::I32WrapI64);
            }
            Made::Future(ty, value) => {
                let new = self.future(module, export, *ty, FutureIntrinsic::New, false);
                let write = self.future(module, export, *ty, FutureIntrinsic::Write, true);
                let drop = self.future(module, export, *ty, FutureIntrinsic::DropWritable, false);
                let set = BUMP + 1 + self.sets;
                self.sets += 1;
                let set_new = self.root("[waitable-set-new]", vec![], vec![ValType::I32]);
                let poll = self.root(
                    "[waitable-set-poll]",
                    vec![ValType::I32; 2],
                    vec![ValType::I32],
                );
                let join = self.root("[waitable-join]", vec![ValType::I32; 2], vec![]);
                // Writes that have completed since the last call: their
                // writable ends go.
                for ins in [
                    I::Block(BlockType::Empty),
                    I::GlobalGet(set),
                    I::I32Eqz,
                    I::BrIf(0),
                    I::Loop(BlockType::Empty),
                    I::GlobalGet(set),
                    I::I32Const(self.event),
                    I::Call(poll),
                    I::I32Eqz,
                    I::BrIf(1),
                    I::I32Const(self.event),
                    I::I32Load(MemArg {
                        offset: 0,
                        align: 2,
                        memory_index: 0,
                    }),
                    I::Call(drop),
                    I::Br(0),
                    I::End,
                    I::End,
                ] {
                    f.instruction(&ins);
                }
                f.instruction(&I::Call(new));
                f.instruction(&I::LocalSet(pair));
                for ins in &high {
                    f.instruction(ins);
                }
                // Write the value; the write completes when the reader
                // reads it. Until then the writable end waits in the set.
                for ins in [
                    I::LocalTee(end),
                    I::I32Const(*value as i32),
                    I::Call(write),
                    I::I32Const(BLOCKED),
                    I::I32Eq,
                    I::If(BlockType::Empty),
                    I::GlobalGet(set),
                    I::I32Eqz,
                    I::If(BlockType::Empty),
                    I::Call(set_new),
                    I::GlobalSet(set),
                    I::End,
                    I::LocalGet(end),
                    I::GlobalGet(set),
                    I::Call(join),
                    I::Else,
                    I::LocalGet(end),
                    I::Call(drop),
                    I::End,
                    I::LocalGet(pair),
                    I::I32WrapI64,
                ] {
                    f.instruction(&ins);
                }
            }
        }
    }

    /// The drop of a readable end of `ty` (a stream or future type) that
    /// `export`'s caller handed over.
    fn drop_readable(&mut self, module: &CoreModule<'_>, export: &Export, ty: TypeId) -> u32 {
        match module.resolve.types[ty].kind {
            TypeDefKind::Stream(_) => {
                self.stream(module, export, ty, StreamIntrinsic::DropReadable)
            }
            _ => self.future(module, export, ty, FutureIntrinsic::DropReadable, false),
        }
    }

    /// The stream intrinsic `intrinsic` of `ty` in `export`'s function.
    fn stream(
        &mut self,
        module: &CoreModule<'_>,
        export: &Export,
        ty: TypeId,
        intrinsic: StreamIntrinsic,
    ) -> u32 {
        let (params, results) = match intrinsic {
            StreamIntrinsic::New => (vec![], vec![ValType::I64]),
            _ => (vec![ValType::I32], vec![]),
        };
        let name = module.resolve.wasm_import_name(
            ManglingAndAbi::Legacy(LiftLowerAbi::Sync),
            WasmImport::StreamIntrinsic {
                interface: Some(&export.key),
                func: export.func,
                ty: Some(ty),
                intrinsic,
                exported: true,
                async_: false,
            },
        );
        self.imports.func(self.types, name, params, results)
    }

    /// The future intrinsic `intrinsic` of `ty` in `export`'s function,
    /// lowered async when `async_` says so.
    fn future(
        &mut self,
        module: &CoreModule<'_>,
        export: &Export,
        ty: TypeId,
        intrinsic: FutureIntrinsic,
        async_: bool,
    ) -> u32 {
        let (params, results) = match intrinsic {
            FutureIntrinsic::New => (vec![], vec![ValType::I64]),
            FutureIntrinsic::Write => (vec![ValType::I32; 2], vec![ValType::I32]),
            _ => (vec![ValType::I32], vec![]),
        };
        let name = module.resolve.wasm_import_name(
            ManglingAndAbi::Legacy(LiftLowerAbi::Sync),
            WasmImport::FutureIntrinsic {
                interface: Some(&export.key),
                func: export.func,
                ty: Some(ty),
                intrinsic,
                exported: true,
                async_,
            },
        );
        self.imports.func(self.types, name, params, results)
    }

    /// The component-wide async intrinsic `name`.
    fn root(&mut self, name: &str, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        self.imports.func(
            self.types,
            ("$root".to_string(), name.to_string()),
            params,
            results,
        )
    }
}

/// What an async `future.write` returns when the reader has not read yet.
const BLOCKED: i32 = -1;

/// The constant of type `flat` that `layout` (with no handles) holds.
fn flat_value(flat: WasmType, layout: &Layout) -> Instruction<'static> {
    let value = layout
        .bytes
        .iter()
        .fold(0u64, |acc, &(at, v, _)| acc | (v << (8 * at)));
    match val_type(flat) {
        ValType::I64 => Instruction::I64Const(value as i64),
        ValType::F32 => Instruction::F32Const(0.0.into()),
        ValType::F64 => Instruction::F64Const(0.0.into()),
        _ => Instruction::I32Const(value as i32),
    }
}

/// The global that holds the bump allocator's next free address.
const BUMP: u32 = 0;

/// The representation of every handle the provider makes: the provider
/// never reads it (its methods ignore `self`, its resources have no
/// destructor), so all its handles share one. The component model lets a
/// representation be any `i32`, and wasmtime takes 0; jco (1.35) keeps
/// representations in 30 bits and takes 0 for "no resource", so a handle of
/// representation 0 is created there but traps (`unknown handle index`)
/// when borrowed, as every call to a method of a denied stream borrows it.
/// 1 is read as itself everywhere. (`tests/runtimes/jco-borrow/` is the
/// smallest component showing it.)
const REP: i32 = 1;

/// The memory: enough pages for the static data up to `heap_base`, at
/// least one.
fn memory(heap_base: i32) -> MemorySection {
    let mut memories = MemorySection::new();
    let pages = (heap_base as u64).div_ceil(65536).max(1);
    memories.memory(MemoryType {
        minimum: pages,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    memories
}

/// The globals: the bump allocator's, [`BUMP`], starting at `heap_base`,
/// then `sets` waitable sets, none made yet (0).
fn globals(heap_base: i32, sets: u32) -> GlobalSection {
    let mut globals = GlobalSection::new();
    let mutable = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(mutable, &ConstExpr::i32_const(heap_base));
    for _ in 0..sets {
        globals.global(mutable, &ConstExpr::i32_const(0));
    }
    globals
}

/// `cabi_realloc(old, old_size, align, size)`: bumps a pointer, growing the
/// memory when needed, and traps when it cannot.
fn realloc() -> Function {
    use Instruction as I;
    let (align_param, size_param, aligned, end) = (2, 3, 4, 5);
    let mut f = Function::new([(2, ValType::I32)]);
    for ins in [
        // aligned = (bump + align - 1) & -align
        I::GlobalGet(BUMP),
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
        I::If(BlockType::Empty),
        I::Unreachable,
        I::End,
        // grow when end is past the memory
        I::LocalGet(end),
        I::MemorySize(0),
        I::I32Const(16),
        I::I32Shl,
        I::I32GtU,
        I::If(BlockType::Empty),
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
        I::If(BlockType::Empty),
        I::Unreachable,
        I::End,
        I::End,
        I::LocalGet(end),
        I::GlobalSet(BUMP),
        I::LocalGet(aligned),
        I::End,
    ] {
        f.instruction(&ins);
    }
    f
}

/// The core type of the flat value `t`.
fn val_type(t: WasmType) -> ValType {
    match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
        WasmType::F32 => ValType::F32,
        WasmType::F64 => ValType::F64,
    }
}

#[cfg(test)]
mod tests {
    use wasmparser::{Operator, Parser, Payload};
    use wit_parser::Resolve;

    use super::CoreModule;

    /// Every `[resource-new]` call of the provider of an interface whose
    /// functions return its own resource flat (`open`) and in a result area
    /// (`pair`): the representation each passes, in code order.
    fn representations() -> Vec<i32> {
        let wit = "package test:deny;
            interface streams {
                resource output-stream {
                    write: func(bytes: list<u8>) -> result;
                }
                open: func() -> output-stream;
                pair: func() -> tuple<u32, output-stream>;
            }";
        let mut resolve = Resolve::default();
        let package = resolve.push_str("streams.wit", wit).unwrap();
        let iface = resolve.packages[package].interfaces["streams"];
        let module = CoreModule::new(&resolve, std::slice::from_ref(&iface))
            .encode()
            .unwrap();

        let mut imported = 0;
        let mut reps = Vec::new();
        for payload in Parser::new(0).parse_all(&module) {
            match payload.unwrap() {
                Payload::ImportSection(section) => {
                    for import in section.into_imports() {
                        assert!(import.unwrap().name.starts_with("[resource-new]"));
                        imported += 1;
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut previous = None;
                    for op in body.get_operators_reader().unwrap() {
                        let op = op.unwrap();
                        if let Operator::Call { function_index } = op
                            && function_index < imported
                        {
                            match previous {
                                Some(Operator::I32Const { value }) => reps.push(value),
                                other => panic!("`[resource-new]` called after {other:?}"),
                            }
                        }
                        previous = Some(op);
                    }
                }
                _ => {}
            }
        }
        assert_eq!(imported, 1, "one resource, one `[resource-new]`");
        reps
    }

    /// A handle of representation 0 traps in jco when it is borrowed (see
    /// `REP`).
    #[test]
    fn every_handle_the_provider_makes_has_a_representation_other_than_zero() {
        // `open` returns the handle itself, `pair` stores it in its area.
        let reps = representations();
        assert_eq!(reps.len(), 2, "{reps:?}");
        assert!(reps.iter().all(|&rep| rep != 0), "{reps:?}");
    }
}
