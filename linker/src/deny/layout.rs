//! The denied value of a type as the canonical ABI lays it out in linear
//! memory (wasm32): which bytes are not zero and where fresh handles go.
//! The deny provider writes these into its static data, or returns them as
//! one flat value when the signature allows.

use wit_parser::{Handle, Int, InterfaceId, Type, TypeDefKind, TypeId, TypeOwner};

use super::answers::{Answer, preferred};
use super::module::CoreModule;

/// A value laid out in linear memory: the bytes that are not zero, and the
/// places where a fresh handle to a resource the provider owns goes.
#[derive(Default, Clone)]
pub(super) struct Layout {
    /// `(offset, value, width in bytes)`, little-endian.
    pub(super) bytes: Vec<(usize, u64, usize)>,
    /// `(offset, resource)`: a fresh handle to `resource` goes at `offset`.
    pub(super) handles: Vec<(usize, TypeId)>,
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
