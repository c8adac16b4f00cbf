//! Naming the core modules of each component after the component.
//!
//! Runtimes name the frames of a backtrace by the core module's name (its
//! `name` section), which a toolchain sets to something like
//! `guest_markdown.wasm`, or leaves out. The composed app names every core
//! module inside a component after that component's name in the manifest, so
//! that a trap anywhere says which component it happened in, even when two
//! components are built from the same file. Nothing but the module-name
//! subsection changes: function names stay as the toolchain wrote them.

use wasm_encoder::Encode as _;
use wasmparser::BinaryReader;

const CUSTOM: u8 = 0;
const CORE_MODULE: u8 = 1;
const COMPONENT: u8 = 4;
const MODULE_NAME: u8 = 0;
const HEADER: usize = 8;

/// The name a composed app gives every core module of the component named
/// `component` in the manifest, and of the deny provider that serves it:
/// the component's name itself. [`component_of_core_module`] reads it back.
pub fn core_module_name(component: &str) -> &str {
    component
}

/// The component a core module of a composed app belongs to, from the
/// module's name (as a runtime's backtrace gives it): the inverse of
/// [`core_module_name`], and what the host names in a fault.
pub fn component_of_core_module(module: &str) -> &str {
    module
}

/// `component` with each core module in it, at any depth, named after the
/// component `name` ([`core_module_name`]).
///
/// Nesting is followed with lists, not recursion, so that no depth of
/// nested components can exhaust the stack.
pub(crate) fn name_core_modules(component: &[u8], name: &str) -> wasmparser::Result<Vec<u8>> {
    // Each binary is read after the one it is nested in, so it comes after
    // it in `binaries`; lengths are then summed from the last to the first.
    let mut binaries: Vec<Binary<'_>> = Vec::new();
    let mut todo: Vec<Unread<'_>> = vec![(component, COMPONENT, None)];
    while let Some((bytes, kind, parent)) = todo.pop() {
        let index = binaries.len();
        if let Some((parent, section)) = parent {
            binaries[parent].sections[section].1 = Contents::Nested(index);
        }
        let binary = match kind {
            COMPONENT => Binary::component(bytes)?,
            _ => Binary::module(bytes, core_module_name(name))?,
        };
        if kind == COMPONENT {
            for (section, (id, contents)) in binary.sections.iter().enumerate() {
                if let (CORE_MODULE | COMPONENT, Contents::Same(nested)) = (*id, contents) {
                    todo.push((nested, *id, Some((index, section))));
                }
            }
        }
        binaries.push(binary);
    }
    for index in (0..binaries.len()).rev() {
        let binary = &binaries[index];
        let len = binary.header.len()
            + binary
                .sections
                .iter()
                .map(|(_, contents)| framed_len(contents.len(&binaries)))
                .sum::<usize>();
        binaries[index].len = len;
    }

    let mut out = Vec::with_capacity(binaries[0].len);
    out.extend_from_slice(binaries[0].header);
    // The binaries being written, innermost last, each with its next section.
    let mut open = vec![(0, 0)];
    while let Some(&(index, section)) = open.last() {
        let Some((id, contents)) = binaries[index].sections.get(section) else {
            open.pop();
            continue;
        };
        if let Some(last) = open.last_mut() {
            last.1 += 1;
        }
        out.push(*id);
        contents.len(&binaries).encode(&mut out);
        match contents {
            Contents::Same(bytes) => out.extend_from_slice(bytes),
            Contents::Name(bytes) => out.extend_from_slice(bytes),
            Contents::Nested(nested) => {
                out.extend_from_slice(binaries[*nested].header);
                open.push((*nested, 0));
            }
        }
    }
    debug_assert_eq!(out.len(), binaries[0].len);
    Ok(out)
}

/// A binary still to read: its bytes, whether it is a module or a component
/// (by the id of the section it comes in), and which section of which
/// binary it is, unless it is the outermost.
type Unread<'a> = (&'a [u8], u8, Option<(usize, usize)>);

/// A binary as it is to be written: its header and its sections, each
/// borrowed from the input unless it changes, so that the output is written
/// in one pass into a buffer of the right size.
struct Binary<'a> {
    header: &'a [u8],
    sections: Vec<(u8, Contents<'a>)>,
    /// The length of the whole binary as written, once known.
    len: usize,
}

/// The contents of one section of a [`Binary`].
enum Contents<'a> {
    /// Unchanged (a nested module or component until it is read).
    Same(&'a [u8]),
    /// A nested module or component, itself rewritten: its index among
    /// the binaries.
    Nested(usize),
    /// A `name` section written anew.
    Name(Vec<u8>),
}

impl Contents<'_> {
    fn len(&self, binaries: &[Binary<'_>]) -> usize {
        match self {
            Self::Same(bytes) => bytes.len(),
            Self::Nested(index) => binaries[*index].len,
            Self::Name(bytes) => bytes.len(),
        }
    }
}

impl<'a> Binary<'a> {
    /// The component `component`, its nested modules and components still
    /// to be read.
    fn component(component: &'a [u8]) -> wasmparser::Result<Self> {
        let (header, frames) = sections(component)?;
        let sections = frames
            .into_iter()
            .map(|(id, contents)| (id, Contents::Same(contents)))
            .collect();
        Ok(Self {
            header,
            sections,
            len: 0,
        })
    }

    /// The core module `module` with its module name set to `name`, its
    /// `name` section added when it has none.
    fn module(module: &'a [u8], name: &str) -> wasmparser::Result<Self> {
        let (header, frames) = sections(module)?;
        let mut sections = Vec::with_capacity(frames.len() + 1);
        let mut named = false;
        for (id, contents) in frames {
            let mut reader = BinaryReader::new(contents, 0);
            if id == CUSTOM && !named && reader.read_string()? == "name" {
                named = true;
                let rest = &contents[reader.current_position()..];
                sections.push((id, Contents::Name(name_section(name, rest))));
            } else {
                sections.push((id, Contents::Same(contents)));
            }
        }
        if !named {
            sections.push((CUSTOM, Contents::Name(name_section(name, &[]))));
        }
        Ok(Self {
            header,
            sections,
            len: 0,
        })
    }
}

/// The contents of a `name` custom section: the module-name subsection for
/// `name`, then the subsections of `rest` other than a module name.
///
/// Validation does not look inside custom sections and runtimes ignore a
/// malformed `name` section, so the subsections of `rest` are kept up to the
/// first whose framing is broken and the others dropped, rather than the
/// component refused.
fn name_section(name: &str, rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    "name".encode(&mut out);
    let mut module_name = Vec::new();
    name.encode(&mut module_name);
    section(&mut out, MODULE_NAME, &module_name);
    let mut reader = BinaryReader::new(rest, 0);
    while !reader.eof() {
        let frame = (|| {
            let id = reader.read_u8()?;
            let size = reader.read_var_u32()?;
            Ok::<_, wasmparser::BinaryReaderError>((id, reader.read_bytes(size as usize)?))
        })();
        let Ok((id, contents)) = frame else {
            break;
        };
        if id != MODULE_NAME {
            section(&mut out, id, contents);
        }
    }
    out
}

/// A section or subsection: its id and contents.
type Frame<'a> = (u8, &'a [u8]);

/// The header of the binary `bytes` and its sections.
fn sections(bytes: &[u8]) -> wasmparser::Result<(&[u8], Vec<Frame<'_>>)> {
    let mut reader = BinaryReader::new(bytes, 0);
    let header = reader.read_bytes(HEADER)?;
    Ok((header, framed(reader)?))
}

/// The frames (id, size, contents) from `reader` to its end.
fn framed(mut reader: BinaryReader<'_>) -> wasmparser::Result<Vec<Frame<'_>>> {
    let mut frames = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()?;
        frames.push((id, reader.read_bytes(size as usize)?));
    }
    Ok(frames)
}

/// A section or subsection: its id, then its contents with their size.
fn section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    contents.encode(out);
}

/// The length of a section (id, size, contents) with `len` bytes of contents.
fn framed_len(len: usize) -> usize {
    // The size takes a byte for each 7 bits it has, and at least one.
    let bits = usize::BITS - len.leading_zeros();
    1 + bits.div_ceil(7).max(1) as usize + len
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_core_module_name_gives_its_component_back() {
        for component in ["markdown", "site-jslogger", "a"] {
            assert_eq!(
                component_of_core_module(core_module_name(component)),
                component
            );
        }
    }

    use super::*;

    fn leb(out: &mut Vec<u8>, n: usize) {
        n.encode(out);
    }

    /// The module name and function names of each core module, in order.
    fn names(component: &[u8]) -> Vec<(Option<String>, Vec<String>)> {
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            match payload.unwrap() {
                wasmparser::Payload::ModuleSection { .. } => names.push((None, Vec::new())),
                wasmparser::Payload::CustomSection(c) if c.name() == "name" => {
                    let wasmparser::KnownCustom::Name(reader) = c.as_known() else {
                        continue;
                    };
                    let (module, funcs) = names.last_mut().unwrap();
                    for sub in reader {
                        match sub.unwrap() {
                            wasmparser::Name::Module { name, .. } => *module = Some(name.into()),
                            wasmparser::Name::Function(map) => {
                                funcs.extend(map.into_iter().map(|n| n.unwrap().name.to_string()));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        names
    }

    #[test]
    fn names_unnamed_and_named_modules_keeping_function_names() {
        let component = wat::parse_str(
            r#"(component
                (core module (@name "guest_thing.wasm") (func $work))
                (core module)
                (component (core module (func $inner)))
            )"#,
        )
        .unwrap();
        let named = name_core_modules(&component, "thing").unwrap();
        wasmparser::Validator::new().validate_all(&named).unwrap();
        let thing = Some("thing".to_string());
        assert_eq!(
            names(&named),
            [
                (thing.clone(), vec!["work".to_string()]),
                (thing.clone(), vec![]),
                (thing, vec!["inner".to_string()]),
            ]
        );
    }

    #[test]
    fn nested_components_at_any_depth_are_named_without_recursion() {
        let inner = wat::parse_str("(component (core module))").unwrap();
        // The size of each component, from the innermost out.
        let mut sizes = vec![inner.len()];
        for _ in 0..100_000 {
            let size = sizes[sizes.len() - 1];
            sizes.push(HEADER + framed_len(size));
        }
        let mut component = Vec::new();
        for size in sizes.iter().rev().skip(1) {
            component.extend_from_slice(&inner[..HEADER]);
            component.push(COMPONENT);
            leb(&mut component, *size);
        }
        component.extend_from_slice(&inner);
        let named = name_core_modules(&component, "deep").unwrap();
        assert_eq!(names(&named), [(Some("deep".to_string()), vec![])]);
        assert!(named.ends_with(b"\x04deep"));
    }

    #[test]
    fn a_malformed_name_section_is_kept_up_to_where_it_breaks() {
        let component = wat::parse_str(
            r#"(component (core module (@name "guest.wasm") (func $work) (func $rest)))"#,
        )
        .unwrap();
        // Make the function-name subsection, the name section's last, claim
        // one byte more than there is.
        let module_name = component.windows(4).position(|w| w == b"name").unwrap() + 4;
        let functions = module_name + 2 + usize::from(component[module_name + 1]);
        assert_eq!(component[functions], 1, "the function-name subsection");
        let mut broken = component.clone();
        broken[functions + 1] += 1;
        wasmparser::Validator::new().validate_all(&broken).unwrap();
        let named = name_core_modules(&broken, "thing").unwrap();
        wasmparser::Validator::new().validate_all(&named).unwrap();
        assert_eq!(names(&named), [(Some("thing".to_string()), vec![])]);
        let named = name_core_modules(&component, "thing").unwrap();
        let functions = vec!["work".to_string(), "rest".to_string()];
        assert_eq!(names(&named), [(Some("thing".to_string()), functions)]);
    }

    #[test]
    fn framed_lengths_count_the_size_as_encoded() {
        for len in [0, 1, 127, 128, 16_383, 16_384, 1 << 21, u32::MAX as usize] {
            let mut size = Vec::new();
            len.encode(&mut size);
            assert_eq!(framed_len(len), 1 + size.len() + len, "{len}");
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        let component = wat::parse_str("(component (core module))").unwrap();
        assert!(name_core_modules(&component[..component.len() - 1], "x").is_err());
    }
}
