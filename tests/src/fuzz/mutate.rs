//! Mutations the fuzz targets share: of wasm binaries and of text.
//!
//! Each takes its choices from an [`Unstructured`], so that the same input
//! always makes the same mutation and libFuzzer can steer them.

use std::ops::Range;

use arbitrary::{Result, Unstructured};

/// Byte values that often sit on a boundary: of a LEB128 byte, a sign, a
/// section id or an opcode.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x40, 0x60,
];

/// Applies one to four mutations to the wasm binary `bytes`: bit flips, a
/// truncation, runs of one byte written over it or inserted, a range
/// removed, a chunk copied elsewhere, two sibling sections swapped (at any
/// depth of nesting), a top-level section dropped or repeated, or the
/// first bytes of a section (its counts and kinds) set to boundary values.
pub(crate) fn wasm(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) -> Result<()> {
    for _ in 0..u.int_in_range(1..=4)? {
        if bytes.is_empty() {
            break;
        }
        match u.int_in_range(0..=8)? {
            0 => {
                for _ in 0..u.int_in_range(1..=8)? {
                    let at = u.choose_index(bytes.len())?;
                    bytes[at] ^= 1 << u.int_in_range(0..=7)?;
                }
            }
            1 => {
                let len = u.int_in_range(0..=bytes.len() - 1)?;
                bytes.truncate(len);
            }
            2 => {
                let at = u.choose_index(bytes.len())?;
                let len = u.int_in_range(1..=64)?.min(bytes.len() - at);
                let byte = byte(u)?;
                bytes[at..at + len].fill(byte);
            }
            3 => {
                let at = u.int_in_range(0..=bytes.len())?;
                let len = u.int_in_range(1..=64)?;
                let byte = byte(u)?;
                bytes.splice(at..at, std::iter::repeat_n(byte, len));
            }
            4 => {
                let at = u.choose_index(bytes.len())?;
                let len = u.int_in_range(1..=256)?.min(bytes.len() - at);
                bytes.drain(at..at + len);
            }
            5 => {
                let from = u.choose_index(bytes.len())?;
                let len = u.int_in_range(1..=256)?.min(bytes.len() - from);
                let to = u.choose_index(bytes.len() - len + 1)?;
                bytes.copy_within(from..from + len, to);
            }
            6 => {
                let lists: Vec<_> = section_lists(bytes)
                    .into_iter()
                    .filter(|l| l.len() >= 2)
                    .collect();
                if lists.is_empty() {
                    continue;
                }
                let list = &lists[u.choose_index(lists.len())?];
                let i = u.choose_index(list.len() - 1)?;
                let j = u.int_in_range(i + 1..=list.len() - 1)?;
                swap(bytes, list[i].clone(), list[j].clone());
            }
            7 => {
                let Some(top) = section_lists(bytes).into_iter().next() else {
                    continue;
                };
                if top.is_empty() {
                    continue;
                }
                let section = top[u.choose_index(top.len())?].clone();
                if u.arbitrary()? {
                    bytes.drain(section);
                } else {
                    let copy = bytes[section.clone()].to_vec();
                    bytes.splice(section.end..section.end, copy);
                }
            }
            _ => {
                let sections: Vec<Range<usize>> =
                    section_lists(bytes).into_iter().flatten().collect();
                if sections.is_empty() {
                    continue;
                }
                let section = &sections[u.choose_index(sections.len())?];
                // The id, the size and the first bytes of the contents.
                let at = section.start + u.choose_index(section.len().min(12))?;
                bytes[at] = byte(u)?;
            }
        }
    }
    Ok(())
}

/// A byte, half the time one of the [`INTERESTING`] ones.
fn byte(u: &mut Unstructured<'_>) -> Result<u8> {
    if u.arbitrary()? {
        Ok(*u.choose(INTERESTING)?)
    } else {
        u.arbitrary()
    }
}

/// Swaps the ranges `a` and `b` of `bytes`, `a` before `b` and apart.
fn swap(bytes: &mut [u8], a: Range<usize>, b: Range<usize>) {
    let mut swapped = Vec::with_capacity(b.end - a.start);
    swapped.extend_from_slice(&bytes[b.clone()]);
    swapped.extend_from_slice(&bytes[a.end..b.start]);
    swapped.extend_from_slice(&bytes[a.clone()]);
    bytes[a.start..b.end].copy_from_slice(&swapped);
}

/// The sections of the binary `bytes` as lists of siblings, each a range
/// from its id to its end: the binary's own first, then those of each
/// module or component nested in a component, depth first. Reading stops
/// quietly where the bytes stop making sense.
pub(crate) fn section_lists(bytes: &[u8]) -> Vec<Vec<Range<usize>>> {
    let mut lists = Vec::new();
    collect_sections(bytes, 0..bytes.len(), 0, &mut lists);
    lists
}

fn collect_sections(
    bytes: &[u8],
    binary: Range<usize>,
    depth: usize,
    lists: &mut Vec<Vec<Range<usize>>>,
) {
    let header = &bytes[binary.start..binary.end.min(binary.start + 8)];
    if depth > 8 || header.len() < 8 || &header[..4] != b"\0asm" {
        return;
    }
    let component = header[6..8] == [1, 0];
    let mut at = binary.start + 8;
    let (mut list, mut nested) = (Vec::new(), Vec::new());
    while at < binary.end {
        let id = bytes[at];
        let Some((size, width)) = leb_u32(&bytes[at + 1..binary.end]) else {
            break;
        };
        let contents = at + 1 + width;
        let Some(end) = contents
            .checked_add(size as usize)
            .filter(|&end| end <= binary.end)
        else {
            break;
        };
        list.push(at..end);
        // A core module (1) or a component (4) nested in a component.
        if component && (id == 1 || id == 4) {
            nested.push(contents..end);
        }
        at = end;
    }
    lists.push(list);
    for binary in nested {
        collect_sections(bytes, binary, depth + 1, lists);
    }
}

/// An unsigned LEB128 `u32` at the start of `bytes`, and its width.
fn leb_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(5).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

/// Applies one to four mutations to `text`: a token of `tokens` or an
/// arbitrary string inserted, characters removed, a line removed, repeated
/// or swapped with another, one occurrence of a token replaced by another,
/// or the text cut short. The result is always valid UTF-8.
pub(crate) fn text(u: &mut Unstructured<'_>, text: &mut String, tokens: &[&str]) -> Result<()> {
    for _ in 0..u.int_in_range(1..=4)? {
        match u.int_in_range(0..=7)? {
            0 => {
                let at = boundary(u, text)?;
                text.insert_str(at, u.choose(tokens)?);
            }
            1 => {
                let at = boundary(u, text)?;
                let insert: &str = u.arbitrary()?;
                text.insert_str(at, insert);
            }
            2 => {
                let at = boundary(u, text)?;
                let len: usize = u.int_in_range(1..=16)?;
                let end = text[at..]
                    .char_indices()
                    .nth(len)
                    .map_or(text.len(), |(i, _)| at + i);
                text.replace_range(at..end, "");
            }
            3 => {
                let at = boundary(u, text)?;
                text.truncate(at);
            }
            4 => {
                let from = u.choose(tokens)?;
                let found: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
                if found.is_empty() {
                    continue;
                }
                let at = found[u.choose_index(found.len())?];
                let to = u.choose(tokens)?;
                text.replace_range(at..at + from.len(), to);
            }
            op => {
                let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
                if lines.is_empty() {
                    continue;
                }
                let i = u.choose_index(lines.len())?;
                match op {
                    5 => {
                        lines.remove(i);
                    }
                    6 => {
                        let j = u.choose_index(lines.len())?;
                        let line = lines[i].clone();
                        lines.insert(j, line);
                    }
                    _ => {
                        let j = u.choose_index(lines.len())?;
                        lines.swap(i, j);
                    }
                }
                *text = lines.concat();
            }
        }
    }
    Ok(())
}

/// A char boundary of `text`, its end included.
fn boundary(u: &mut Unstructured<'_>, text: &str) -> Result<usize> {
    let count = text.chars().count();
    let nth = u.int_in_range(0..=count)?;
    Ok(text.char_indices().nth(nth).map_or(text.len(), |(i, _)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component with a core module in it: `(component (core module))`
    /// written by hand, with one custom section after the module.
    fn nested() -> Vec<u8> {
        let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
        let module = b"\0asm\x01\x00\x00\x00";
        bytes.extend([1, module.len() as u8]);
        bytes.extend(module);
        bytes.extend([0, 2, 1, b'a']);
        bytes
    }

    #[test]
    fn sections_are_found_at_every_depth() {
        let lists = section_lists(&nested());
        assert_eq!(lists, vec![vec![8..18, 18..22], vec![]]);
    }

    #[test]
    fn swapping_sections_keeps_the_bytes() {
        let mut bytes = nested();
        swap(&mut bytes, 8..18, 18..22);
        assert_eq!(&bytes[8..12], &[0, 2, 1, b'a']);
        assert_eq!(section_lists(&bytes)[0], vec![8..12, 12..22]);
    }

    #[test]
    fn text_stays_text() {
        let data: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        let mut u = Unstructured::new(&data);
        let mut manifest = "[app]\nname = \"é\"\n".to_string();
        while !u.is_empty() {
            text(&mut u, &mut manifest, &["[", "🦀", "\n"]).unwrap();
        }
    }
}
