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
    Function as WitFunction, InterfaceId, Resolve, SizeAlign, Type, TypeDefKind, TypeId, WorldKey,
};

use super::answers::Special;
use super::layout::{Layout, align};
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
    /// Writes the handles of `layout` into the result area at `area`, then
    /// returns a pointer to it.
    Area(usize, Layout),
}

/// One function of a denied interface, as the module exports it.
struct Export {
    /// `INTERFACE#FUNCTION`.
    name: String,
    /// The index of its function type.
    ty: u32,
    body: Body,
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
        let (imports, resource_new) = self.resource_new(&mut types);
        // The static data starts with 16 bytes of zeros, then the result
        // areas; the heap the allocator hands out follows.
        let mut data: Vec<u8> = vec![0; 16];
        let exports = self.exports(&mut types, &mut data);
        let heap_base = align(data.len(), 8) as i32;
        let realloc_type = types.function(vec![ValType::I32; 4], vec![ValType::I32]);
        let functions = functions(&exports, realloc_type, heap_base, &resource_new);

        let mut datas = DataSection::new();
        datas.active(0, &ConstExpr::i32_const(0), data);
        let mut names = NameSection::new();
        names.functions(&functions.names);
        let mut module = Module::new();
        module
            .section(&types.section)
            .section(&imports)
            .section(&functions.functions)
            .section(&memory(heap_base))
            .section(&bump(heap_base))
            .section(&functions.exports)
            .section(&functions.code)
            .section(&datas)
            .section(&names);
        Ok(module.finish())
    }

    /// Imports `[resource-new]` for every resource the provider exports,
    /// and the index of each of those functions by resource.
    fn resource_new(&self, types: &mut Types) -> (ImportSection, HashMap<TypeId, u32>) {
        let mut imports = ImportSection::new();
        let mut resource_new: HashMap<TypeId, u32> = HashMap::new();
        for &iface in self.exported {
            let name = self.interface_name(iface);
            for (resource_name, &ty) in &self.resolve.interfaces[iface].types {
                if matches!(self.resolve.types[ty].kind, TypeDefKind::Resource) {
                    let t = types.function(vec![ValType::I32], vec![ValType::I32]);
                    imports.import(
                        &format!("[export]{name}"),
                        &format!("[resource-new]{resource_name}"),
                        EntityType::Function(t),
                    );
                    resource_new.insert(ty, resource_new.len() as u32);
                }
            }
        }
        (imports, resource_new)
    }

    /// Every function of the denied interfaces, in the order they are
    /// declared, with the result areas they need added to the static `data`.
    fn exports(&self, types: &mut Types, data: &mut Vec<u8>) -> Vec<Export> {
        let mut exports = Vec::new();
        for &iface in self.exported {
            let name = self.interface_name(iface);
            for func in self.resolve.interfaces[iface].functions.values() {
                let sig = self.resolve.wasm_signature(AbiVariant::GuestExport, func);
                let body = self.body(&name, func, data);
                let params = sig.params.iter().map(|t| val_type(*t)).collect();
                let results = sig.results.iter().map(|t| val_type(*t)).collect();
                exports.push(Export {
                    name: format!("{name}#{}", func.name),
                    ty: types.function(params, results),
                    body,
                });
            }
        }
        exports
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
}

/// The functions the module defines and exports: `exports`, then
/// `cabi_realloc` (of type `realloc_type`), numbered after the imported
/// `[resource-new]` functions of `resource_new`. The memory is exported too.
fn functions(
    exports: &[Export],
    realloc_type: u32,
    heap_base: i32,
    resource_new: &HashMap<TypeId, u32>,
) -> Functions {
    let imported = resource_new.len() as u32;
    let mut out = Functions::default();
    out.exports.export("memory", ExportKind::Memory, 0);
    for (i, export) in exports.iter().enumerate() {
        let index = imported + i as u32;
        out.functions.function(export.ty);
        out.code
            .function(&code(&export.body, heap_base, resource_new));
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

/// The code of an exported function that does `body`: reset the bump
/// allocator to `heap_base`, then answer.
fn code(body: &Body, heap_base: i32, resource_new: &HashMap<TypeId, u32>) -> Function {
    let mut f = Function::new([]);
    f.instruction(&Instruction::I32Const(heap_base));
    f.instruction(&Instruction::GlobalSet(BUMP));
    match body {
        Body::Nothing => {}
        Body::Trap => {
            f.instruction(&Instruction::Unreachable);
        }
        Body::Area(area, layout) => {
            for &(at, ty) in &layout.handles {
                f.instruction(&Instruction::I32Const(at as i32));
                f.instruction(&Instruction::I32Const(REP));
                f.instruction(&Instruction::Call(resource_new[&ty]));
                f.instruction(&Instruction::I32Store(MemArg {
                    offset: 0,
                    align: 2,
                    memory_index: 0,
                }));
            }
            f.instruction(&Instruction::I32Const(*area as i32));
        }
        Body::Flat(flat, layout) => {
            if let Some(&(_, ty)) = layout.handles.first() {
                f.instruction(&Instruction::I32Const(REP));
                f.instruction(&Instruction::Call(resource_new[&ty]));
            } else {
                f.instruction(&flat_value(*flat, layout));
            }
        }
    }
    f.instruction(&Instruction::End);
    f
}

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

/// The bump allocator's global, [`BUMP`], starting at `heap_base`.
fn bump(heap_base: i32) -> GlobalSection {
    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &ConstExpr::i32_const(heap_base),
    );
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
