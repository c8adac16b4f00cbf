//! Checking that an export can stand where an import is expected: every
//! function the importer uses exists in the export with the same type.

use wit_parser::{Function, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// One side of a comparison: a resolve and something in it.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub resolve: &'a Resolve,
    pub interface: InterfaceId,
}

/// Checks that `export` provides every function and type `import` uses.
/// The error is the cause chain, outermost first.
pub fn check_interface(import: Side<'_>, export: Side<'_>) -> Result<(), Vec<String>> {
    let want = &import.resolve.interfaces[import.interface];
    let have = &export.resolve.interfaces[export.interface];
    for (name, func) in &want.functions {
        let Some(other) = have.functions.get(name) else {
            return Err(vec![format!("function `{name}` is not exported")]);
        };
        check_function(import.resolve, func, export.resolve, other).map_err(|mut chain| {
            chain.insert(0, format!("in function `{name}`"));
            chain
        })?;
    }
    for (name, ty) in &want.types {
        let Some(other) = have.types.get(name) else {
            return Err(vec![format!("type `{name}` is not exported")]);
        };
        check_type_id(import.resolve, *ty, export.resolve, *other).map_err(|mut chain| {
            chain.insert(0, format!("in type `{name}`"));
            chain
        })?;
    }
    Ok(())
}

/// Checks that the function `b` can stand where `a` is expected: both
/// async or both not (the component model's types say so, whatever either
/// side's code does), the same parameters, names and types, and the same
/// result.
pub fn check_function(
    ra: &Resolve,
    a: &Function,
    rb: &Resolve,
    b: &Function,
) -> Result<(), Vec<String>> {
    if a.kind.is_async() != b.kind.is_async() {
        let kind = |f: &Function| {
            if f.kind.is_async() {
                "an async"
            } else {
                "a sync"
            }
        };
        return Err(vec![format!(
            "expected {} function, found {} function",
            kind(a),
            kind(b)
        )]);
    }
    if a.params.len() != b.params.len() {
        let count = |n: usize| match n {
            1 => "1 parameter".to_string(),
            n => format!("{n} parameters"),
        };
        return Err(vec![format!(
            "expected {}, found {}",
            count(a.params.len()),
            count(b.params.len())
        )]);
    }
    for (pa, pb) in a.params.iter().zip(&b.params) {
        if pa.name != pb.name {
            return Err(vec![format!(
                "expected parameter `{}`, found `{}`",
                pa.name, pb.name
            )]);
        }
        check_type(ra, &pa.ty, rb, &pb.ty).map_err(|mut chain| {
            chain.insert(0, format!("in parameter `{}`", pa.name));
            chain
        })?;
    }
    match (&a.result, &b.result) {
        (None, None) => Ok(()),
        (Some(x), Some(y)) => check_type(ra, x, rb, y).map_err(|mut chain| {
            chain.insert(0, "in the result".to_string());
            chain
        }),
        (x, y) => Err(vec![format!(
            "expected result `{}`, found `{}`",
            x.as_ref().map_or("none".into(), |t| describe(ra, t)),
            y.as_ref().map_or("none".into(), |t| describe(rb, t)),
        )]),
    }
}

fn mismatch(ra: &Resolve, a: &Type, rb: &Resolve, b: &Type) -> Vec<String> {
    vec![format!(
        "expected `{}`, found `{}`",
        describe(ra, a),
        describe(rb, b)
    )]
}

fn check_type(ra: &Resolve, a: &Type, rb: &Resolve, b: &Type) -> Result<(), Vec<String>> {
    match (a, b) {
        (Type::Id(x), Type::Id(y)) => check_type_id(ra, *x, rb, *y),
        (Type::Id(x), _) => match &ra.types[*x].kind {
            TypeDefKind::Type(inner) => check_type(ra, inner, rb, b),
            _ => Err(mismatch(ra, a, rb, b)),
        },
        (_, Type::Id(y)) => match &rb.types[*y].kind {
            TypeDefKind::Type(inner) => check_type(ra, a, rb, inner),
            _ => Err(mismatch(ra, a, rb, b)),
        },
        (x, y) if x == y => Ok(()),
        _ => Err(mismatch(ra, a, rb, b)),
    }
}

fn check_type_id(ra: &Resolve, a: TypeId, rb: &Resolve, b: TypeId) -> Result<(), Vec<String>> {
    let (ka, kb) = (&ra.types[a].kind, &rb.types[b].kind);
    let here = || mismatch(ra, &Type::Id(a), rb, &Type::Id(b));
    match (ka, kb) {
        (TypeDefKind::Type(x), _) => check_type(ra, x, rb, &Type::Id(b)),
        (_, TypeDefKind::Type(y)) => check_type(ra, &Type::Id(a), rb, y),
        (TypeDefKind::Record(x), TypeDefKind::Record(y)) => {
            if x.fields.len() != y.fields.len() {
                return Err(here());
            }
            for (fa, fb) in x.fields.iter().zip(&y.fields) {
                if fa.name != fb.name {
                    return Err(vec![format!(
                        "expected field `{}`, found `{}`",
                        fa.name, fb.name
                    )]);
                }
                check_type(ra, &fa.ty, rb, &fb.ty).map_err(|mut chain| {
                    chain.insert(0, format!("in field `{}`", fa.name));
                    chain
                })?;
            }
            Ok(())
        }
        (TypeDefKind::Variant(x), TypeDefKind::Variant(y)) => {
            if x.cases.len() != y.cases.len() {
                return Err(here());
            }
            for (ca, cb) in x.cases.iter().zip(&y.cases) {
                if ca.name != cb.name {
                    return Err(vec![format!(
                        "expected case `{}`, found `{}`",
                        ca.name, cb.name
                    )]);
                }
                match (&ca.ty, &cb.ty) {
                    (None, None) => {}
                    (Some(ta), Some(tb)) => check_type(ra, ta, rb, tb).map_err(|mut chain| {
                        chain.insert(0, format!("in case `{}`", ca.name));
                        chain
                    })?,
                    _ => return Err(vec![format!("case `{}` differs in payload", ca.name)]),
                }
            }
            Ok(())
        }
        (TypeDefKind::Enum(x), TypeDefKind::Enum(y)) => {
            let xs: Vec<_> = x.cases.iter().map(|c| &c.name).collect();
            let ys: Vec<_> = y.cases.iter().map(|c| &c.name).collect();
            if xs == ys { Ok(()) } else { Err(here()) }
        }
        (TypeDefKind::Flags(x), TypeDefKind::Flags(y)) => {
            let xs: Vec<_> = x.flags.iter().map(|c| &c.name).collect();
            let ys: Vec<_> = y.flags.iter().map(|c| &c.name).collect();
            if xs == ys { Ok(()) } else { Err(here()) }
        }
        (TypeDefKind::Tuple(x), TypeDefKind::Tuple(y)) => {
            if x.types.len() != y.types.len() {
                return Err(here());
            }
            for (i, (ta, tb)) in x.types.iter().zip(&y.types).enumerate() {
                check_type(ra, ta, rb, tb).map_err(|mut chain| {
                    chain.insert(0, format!("in tuple element {i}"));
                    chain
                })?;
            }
            Ok(())
        }
        (TypeDefKind::Option(x), TypeDefKind::Option(y))
        | (TypeDefKind::List(x), TypeDefKind::List(y)) => check_type(ra, x, rb, y),
        (TypeDefKind::Result(x), TypeDefKind::Result(y)) => {
            for (what, ta, tb) in [("ok", &x.ok, &y.ok), ("error", &x.err, &y.err)] {
                match (ta, tb) {
                    (None, None) => {}
                    (Some(ta), Some(tb)) => check_type(ra, ta, rb, tb).map_err(|mut chain| {
                        chain.insert(0, format!("in the {what} type"));
                        chain
                    })?,
                    _ => return Err(here()),
                }
            }
            Ok(())
        }
        (TypeDefKind::Handle(x), TypeDefKind::Handle(y)) => {
            use wit_parser::Handle;
            match (x, y) {
                (Handle::Own(p), Handle::Own(q)) | (Handle::Borrow(p), Handle::Borrow(q)) => {
                    check_type_id(ra, *p, rb, *q)
                }
                _ => Err(here()),
            }
        }
        (TypeDefKind::Stream(x), TypeDefKind::Stream(y))
        | (TypeDefKind::Future(x), TypeDefKind::Future(y)) => match (x, y) {
            (None, None) => Ok(()),
            (Some(ta), Some(tb)) => check_type(ra, ta, rb, tb).map_err(|mut chain| {
                let what = match ka {
                    TypeDefKind::Stream(_) => "stream",
                    _ => "future",
                };
                chain.insert(0, format!("in the {what}'s element type"));
                chain
            }),
            _ => Err(here()),
        },
        (TypeDefKind::Resource, TypeDefKind::Resource) => {
            if qualified_name(ra, a) == qualified_name(rb, b) {
                Ok(())
            } else {
                Err(here())
            }
        }
        _ => Err(here()),
    }
}

/// `interface.type` for a named type, for comparing resources.
fn qualified_name(resolve: &Resolve, id: TypeId) -> String {
    let ty = &resolve.types[id];
    let owner = match ty.owner {
        TypeOwner::Interface(i) => resolve.id_of(i).unwrap_or_default(),
        _ => String::new(),
    };
    format!("{owner}.{}", ty.name.as_deref().unwrap_or("?"))
}

/// A short WIT rendering of `ty`, for messages.
pub fn describe(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => {
            let def = &resolve.types[*id];
            if let Some(name) = &def.name {
                let kind = match def.kind {
                    TypeDefKind::Record(_) => "record ",
                    TypeDefKind::Variant(_) => "variant ",
                    TypeDefKind::Enum(_) => "enum ",
                    TypeDefKind::Flags(_) => "flags ",
                    TypeDefKind::Resource => "resource ",
                    _ => "",
                };
                return format!("{kind}{name}");
            }
            match &def.kind {
                TypeDefKind::Type(t) => describe(resolve, t),
                TypeDefKind::List(t) => format!("list<{}>", describe(resolve, t)),
                TypeDefKind::Option(t) => format!("option<{}>", describe(resolve, t)),
                TypeDefKind::Tuple(t) => format!(
                    "tuple<{}>",
                    t.types
                        .iter()
                        .map(|t| describe(resolve, t))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                TypeDefKind::Result(r) => format!(
                    "result<{}, {}>",
                    r.ok.as_ref().map_or("_".into(), |t| describe(resolve, t)),
                    r.err.as_ref().map_or("_".into(), |t| describe(resolve, t))
                ),
                TypeDefKind::Handle(wit_parser::Handle::Own(t)) => {
                    format!("own<{}>", describe(resolve, &Type::Id(*t)))
                }
                TypeDefKind::Handle(wit_parser::Handle::Borrow(t)) => {
                    format!("borrow<{}>", describe(resolve, &Type::Id(*t)))
                }
                TypeDefKind::Stream(t) | TypeDefKind::Future(t) => {
                    let kind = match def.kind {
                        TypeDefKind::Stream(_) => "stream",
                        _ => "future",
                    };
                    match t {
                        Some(t) => format!("{kind}<{}>", describe(resolve, t)),
                        None => kind.into(),
                    }
                }
                _ => "a type".into(),
            }
        }
    }
}
