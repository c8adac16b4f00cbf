//! The denied value of a type as the canonical ABI lays it out in linear
//! memory (wasm32): which bytes are not zero and where fresh handles go.
//! The deny provider writes these into its static data, or returns them as
//! one flat value when the signature allows.

use wit_parser::{Handle, Int, InterfaceId, Type, TypeDefKind, TypeId, TypeOwner};

use super::answers::{Answer, preferred};
use super::module::CoreModule;

/// A value laid out in linear memory: the bytes that are not zero, and the
/// places where a handle made at call time goes.
#[derive(Default, Clone)]
pub(super) struct Layout {
    /// `(offset, value, width in bytes)`, little-endian.
    pub(super) bytes: Vec<(usize, u64, usize)>,
    /// `(offset, what)`: a handle to what is made goes at `offset`.
    pub(super) handles: Vec<(usize, Fresh)>,
}

/// What a deny provider makes at call time for a handle in its answer.
#[derive(Clone)]
pub(super) enum Fresh {
    /// A handle to this resource, which the provider exports.
    Resource(TypeId),
    /// The readable end of a new stream of this type whose writable end is
    /// dropped at once: a stream that has ended.
    Stream(TypeId),
    /// The readable end of a new future of this type, into which the
    /// provider writes this value (laid out from offset 0, with no handles).
    Future(TypeId, Layout),
}

impl CoreModule<'_> {
    /// The interface that defines `ty`'s resource, when `ty` is one.
    pub(super) fn resource(&self, mut ty: TypeId) -> Option<(TypeId, InterfaceId)> {
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
    pub(super) fn deny(&self, ty: &Type, at: usize, error: bool) -> Option<Layout> {
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
                        .payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()])
                        .size_wasm32();
                let err = match &r.err {
                    Some(ty) => self.deny(ty, payload, true),
                    None => Some(Layout::default()),
                };
                if let Some(mut layout) = err {
                    push_int(&mut layout, at, 1, Int::U8);
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
                    handles: vec![(at, Fresh::Resource(resource))],
                })
            }
            TypeDefKind::Stream(_) => Some(Layout {
                bytes: Vec::new(),
                handles: vec![(at, Fresh::Stream(*id))],
            }),
            TypeDefKind::Future(payload) => {
                let value = match payload {
                    Some(payload) => self.deny(payload, 0, error)?,
                    None => Layout::default(),
                };
                value.handles.is_empty().then(|| Layout {
                    bytes: Vec::new(),
                    handles: vec![(at, Fresh::Future(*id, value))],
                })
            }
            TypeDefKind::Handle(Handle::Borrow(_))
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => None,
        }
    }

    /// Lays out the denied values of `types` as the fields of a record at
    /// `at`; `None` when one of them has none.
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

    /// The value of `ty` that `answer` gives, laid out from offset 0, with
    /// any list it points to added to the static `data`.
    pub(super) fn answer(&self, ty: &Type, answer: Answer, data: &mut Vec<u8>) -> Layout {
        // A future answers with the value it resolves to.
        if let Type::Id(id) = ty
            && let TypeDefKind::Future(payload) = &self.resolve.types[*id].kind
        {
            let value = match payload {
                Some(payload) => self.answer(payload, answer, data),
                None => Layout::default(),
            };
            return Layout {
                bytes: Vec::new(),
                handles: vec![(0, Fresh::Future(*id, value))],
            };
        }
        let mut layout = Layout::default();
        match answer {
            Answer::True => push_int(&mut layout, 0, 1, Int::U8),
            Answer::FirstIndex => {
                // A `u32` 0 to point at, then the list's pointer and length.
                let element = align(data.len(), 4);
                data.resize(element + 4, 0);
                push_int(&mut layout, 0, element as u64, Int::U32);
                push_int(&mut layout, 4, 1, Int::U32);
            }
            Answer::Ok(value) => {
                // The tag `ok` is 0; the payload follows it.
                if let Type::Id(id) = ty
                    && let TypeDefKind::Result(r) = &self.resolve.types[*id].kind
                    && let Some(ok) = &r.ok
                {
                    let payload = self
                        .sizes
                        .payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()])
                        .size_wasm32();
                    let width = match self.sizes.size(ok).size_wasm32() {
                        8 => Int::U64,
                        4 => Int::U32,
                        2 => Int::U16,
                        _ => Int::U8,
                    };
                    push_int(&mut layout, payload, value, width);
                }
            }
        }
        layout
    }
}

/// Adds the integer `value`, as wide as `tag`, at `at`; a zero adds
/// nothing, since the memory is zero already.
fn push_int(layout: &mut Layout, at: usize, value: u64, tag: Int) {
    let width = match tag {
        Int::U8 => 1,
        Int::U16 => 2,
        Int::U32 => 4,
        Int::U64 => 8,
    };
    if value != 0 {
        layout.bytes.push((at, value, width));
    }
}

/// `n` rounded up to a multiple of `to`.
pub(super) fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

#[cfg(test)]
mod tests {
    use wit_parser::abi::WasmType;
    use wit_parser::{InterfaceId, Resolve, Type};

    use super::super::module::{Body, CoreModule};

    /// Error cases for the tests: the preferred one, `access-denied`, is
    /// neither the first nor the last.
    const ERROR_CODE: &str = "enum error-code { busy, access-denied, closed }";

    /// The interface `t` of the package `test:deny` with the types `types`
    /// and the function `f` returning `result`, resolved.
    fn resolve(types: &str, result: &str) -> (Resolve, InterfaceId) {
        let wit = format!(
            "package test:deny;\ninterface t {{\n{ERROR_CODE}\n{types}\nf: func() -> {result};\n}}\n"
        );
        let mut resolve = Resolve::default();
        let package = resolve.push_str("t.wit", &wit).unwrap();
        let iface = resolve.packages[package].interfaces["t"];
        (resolve, iface)
    }

    /// The type `f` returns.
    fn result_type(resolve: &Resolve, iface: InterfaceId) -> Type {
        resolve.interfaces[iface].functions["f"].result.unwrap()
    }

    /// The denied value of what `f` returns, laid out from offset 0: its
    /// bytes that are not zero, as `(offset, value, width)`.
    fn layout(types: &str, result: &str) -> Vec<(usize, u64, usize)> {
        let (resolve, iface) = resolve(types, result);
        let module = CoreModule::new(&resolve, std::slice::from_ref(&iface));
        let layout = module
            .deny(&result_type(&resolve, iface), 0, false)
            .unwrap();
        assert!(layout.handles.is_empty());
        layout.bytes
    }

    /// What the deny provider writes for `f`: its body, and the static data
    /// the body's result area is in.
    fn body(types: &str, result: &str) -> (Body, Vec<u8>) {
        let (resolve, iface) = resolve(types, result);
        let module = CoreModule::new(&resolve, std::slice::from_ref(&iface));
        let func = &resolve.interfaces[iface].functions["f"];
        // As in `CoreModule::encode`: 16 bytes of zeros come first.
        let mut data = vec![0; 16];
        let body = module.body(&module.interface_name(iface), func, &mut data);
        (body, data)
    }

    /// The bytes of the result area the deny provider writes for `f`,
    /// which it places after the first 16 bytes of its static data.
    fn area(types: &str, result: &str) -> Vec<u8> {
        let (body, data) = body(types, result);
        let Body::Area(16, layout) = body else {
            panic!("`f` does not return a result area at 16");
        };
        assert!(layout.is_empty());
        data[16..].to_vec()
    }

    #[test]
    fn a_result_is_its_error_with_the_preferred_case() {
        // The tag at 0; the payload after it, aligned as a string's
        // pointer and length (4), is the case `access-denied` (1).
        let result = "result<string, error-code>";
        assert_eq!(layout("", result), [(4, 1, 1), (0, 1, 1)]);
        assert_eq!(area("", result), [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn an_option_is_none() {
        assert_eq!(layout("", "option<u32>"), []);
        assert_eq!(area("", "option<u32>"), [0; 8]);
    }

    #[test]
    fn a_list_is_empty() {
        // Pointer 0 and length 0.
        assert_eq!(layout("", "list<u8>"), []);
        assert_eq!(area("", "list<u8>"), [0; 8]);
    }

    #[test]
    fn a_record_lays_out_its_fields_aligned() {
        // `flag` at 0, `size` at 8, `status` at 16 (its tag; its payload at
        // 20), `tag` at 24; 26 bytes rounded up to the alignment, 8.
        let types = "record r { flag: bool, size: u64, status: result<u32, error-code>, tag: u16 }";
        assert_eq!(layout(types, "r"), [(20, 1, 1), (16, 1, 1)]);
        let mut expected = [0; 32];
        expected[16] = 1;
        expected[20] = 1;
        assert_eq!(area(types, "r"), expected);
    }

    #[test]
    fn a_variant_with_a_u64_payload_is_aligned_to_8() {
        // The error variant sits at 8, after the result's tag; its own
        // payload at 16 is zero. The case is the preferred one (1).
        let types = "variant failure { timeout(u64), access-denied(u64) }";
        let result = "result<u32, failure>";
        assert_eq!(layout(types, result), [(8, 1, 1), (0, 1, 1)]);
        let mut expected = [0; 24];
        expected[0] = 1;
        expected[8] = 1;
        assert_eq!(area(types, result), expected);
    }

    #[test]
    fn a_variant_that_is_not_an_error_is_its_first_case() {
        let types = "variant failure { timeout(u64), access-denied(u64) }";
        assert_eq!(layout(types, "failure"), []);
        assert_eq!(area(types, "failure"), [0; 16]);
    }

    #[test]
    fn flags_and_enums_are_flat_zeros() {
        for (types, result) in [("flags perms { read, write }", "perms"), ("", "error-code")] {
            let (body, data) = body(types, result);
            let Body::Flat(WasmType::I32, layout) = body else {
                panic!("`{result}` is not returned as one `i32`");
            };
            assert_eq!(layout.bytes, []);
            assert_eq!(data, [0; 16], "nothing is added to the static data");
        }
    }

    #[test]
    fn a_bare_result_is_a_flat_err() {
        let (body, _) = body("", "result");
        let Body::Flat(WasmType::I32, layout) = body else {
            panic!("`result` is not returned as one `i32`");
        };
        assert_eq!(layout.bytes, [(0, 1, 1)]);
    }

    #[test]
    fn a_handle_of_the_providers_own_goes_into_the_result_area() {
        // The handle, made on each call, is stored at 4 of the area at 16.
        let (body, data) = body("resource file;", "tuple<u32, file>");
        let Body::Area(16, layout) = body else {
            panic!("`f` does not return a result area at 16");
        };

        assert_eq!(layout.len(), 1);
        assert_eq!(layout[0].0, 20);
        assert_eq!(data[16..], [0; 8]);
    }

    #[test]
    fn a_stream_set_by_name_answers_ok_with_its_number() {
        // `check-write` answers `ok(4096)`: the tag `ok` is 0, the `u64`
        // payload at 8.
        let wit = "package wasi:io@0.2.0;
            interface streams {
                variant stream-error { closed }
                resource output-stream {
                    check-write: func() -> result<u64, stream-error>;
                }
            }";
        let mut resolve = Resolve::default();
        let package = resolve.push_str("streams.wit", wit).unwrap();
        let iface = resolve.packages[package].interfaces["streams"];
        let module = CoreModule::new(&resolve, std::slice::from_ref(&iface));
        let func = &resolve.interfaces[iface].functions["[method]output-stream.check-write"];
        let mut data = vec![0; 16];
        let body = module.body(&module.interface_name(iface), func, &mut data);
        let Body::Area(16, _) = body else {
            panic!("`check-write` does not return a result area at 16");
        };
        let mut expected = [0; 16];
        expected[8..].copy_from_slice(&4096u64.to_le_bytes());
        assert_eq!(data[16..], expected);
    }
}
