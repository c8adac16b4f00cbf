//! Naming the core modules of each component after the component.
//!
//! Runtimes name the frames of a backtrace by the core module's name (its
//! `name` section), which a toolchain sets to something like
//! `guest_markdown.wasm`, or leaves out. The composed app names every core
//! module inside a component after that component's name in the manifest, so
//! that a trap anywhere says which component it happened in, even when two
//! components are built from the same file. Nothing but the module-name
//! subsection changes: function names stay as the toolchain wrote them.

use wasmparser::BinaryReader;

const CUSTOM: u8 = 0;
const CORE_MODULE: u8 = 1;
const COMPONENT: u8 = 4;
const MODULE_NAME: u8 = 0;
const HEADER: usize = 8;

/// `component` with each core module in it, at any depth, named `name`.
pub(crate) fn name_core_modules(component: &[u8], name: &str) -> wasmparser::Result<Vec<u8>> {
    let named = Binary::component(component, name)?;
    let mut out = Vec::with_capacity(named.len);
    named.write(&mut out);
    debug_assert_eq!(out.len(), named.len);
    Ok(out)
}

/// A binary as it is to be written: its header and its sections, each
/// borrowed from the input unless it changes, so that the output is written
/// in one pass into a buffer of the right size.
struct Binary<'a> {
    header: &'a [u8],
    sections: Vec<(u8, Contents<'a>)>,
    /// The length of the whole binary as written.
    len: usize,
}

/// The contents of one section of a [`Binary`].
enum Contents<'a> {
    /// Unchanged.
    Same(&'a [u8]),
    /// A nested module or component, itself rewritten.
    Nested(Binary<'a>),
    /// A `name` section written anew.
    Name(Vec<u8>),
}

impl Contents<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Same(bytes) => bytes.len(),
            Self::Nested(binary) => binary.len,
            Self::Name(bytes) => bytes.len(),
        }
    }
}

impl<'a> Binary<'a> {
    fn new(header: &'a [u8], sections: Vec<(u8, Contents<'a>)>) -> Self {
        let len = header.len()
            + sections
                .iter()
                .map(|(_, contents)| framed_len(contents.len()))
                .sum::<usize>();
        Self {
            header,
            sections,
            len,
        }
    }

    /// The component `component` with each core module in it named `name`.
    fn component(component: &'a [u8], name: &str) -> wasmparser::Result<Self> {
        let (header, frames) = sections(component)?;
        let sections = frames
            .into_iter()
            .map(|(id, contents)| {
                let contents = match id {
                    CORE_MODULE => Contents::Nested(Self::module(contents, name)?),
                    COMPONENT => Contents::Nested(Self::component(contents, name)?),
                    _ => Contents::Same(contents),
                };
                Ok((id, contents))
            })
            .collect::<wasmparser::Result<_>>()?;
        Ok(Self::new(header, sections))
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
                sections.push((id, Contents::Name(name_section(name, rest)?)));
            } else {
                sections.push((id, Contents::Same(contents)));
            }
        }
        if !named {
            sections.push((CUSTOM, Contents::Name(name_section(name, &[])?)));
        }
        Ok(Self::new(header, sections))
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.header);
        for (id, contents) in &self.sections {
            out.push(*id);
            leb(out, contents.len());
            match contents {
                Contents::Same(bytes) => out.extend_from_slice(bytes),
                Contents::Name(bytes) => out.extend_from_slice(bytes),
                Contents::Nested(binary) => binary.write(out),
            }
        }
    }
}

/// The contents of a `name` custom section: the module-name subsection for
/// `name`, then the subsections of `rest` other than a module name.
fn name_section(name: &str, rest: &[u8]) -> wasmparser::Result<Vec<u8>> {
    let mut out = Vec::new();
    string(&mut out, "name");
    let mut module_name = Vec::new();
    string(&mut module_name, name);
    section(&mut out, MODULE_NAME, &module_name);
    for (id, contents) in framed(BinaryReader::new(rest, 0))? {
        if id != MODULE_NAME {
            section(&mut out, id, contents);
        }
    }
    Ok(out)
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

fn section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    leb(out, contents.len());
    out.extend_from_slice(contents);
}

fn string(out: &mut Vec<u8>, s: &str) {
    leb(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// The length of a section (id, size, contents) with `len` bytes of contents.
fn framed_len(len: usize) -> usize {
    let mut leb_len = 1;
    let mut n = len >> 7;
    while n != 0 {
        leb_len += 1;
        n >>= 7;
    }
    1 + leb_len + len
}

fn leb(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn truncated_input_is_an_error() {
        let component = wat::parse_str("(component (core module))").unwrap();
        assert!(name_core_modules(&component[..component.len() - 1], "x").is_err());
    }
}
