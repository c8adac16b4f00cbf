//! Which pulldown-cmark extensions the `options` record of
//! `nanoproc:markdown/render` turns on. It names no WIT type, so the
//! component, the tests that render natively and `md2html-direct` all
//! include this one mapping.

/// The pulldown-cmark options for the record's fields, given in its
/// order: tables, footnotes, strikethrough, task lists, smart punctuation,
/// heading attributes.
pub fn extensions(on: [bool; 6]) -> pulldown_cmark::Options {
    use pulldown_cmark::Options as O;
    let flags = [
        O::ENABLE_TABLES,
        O::ENABLE_FOOTNOTES,
        O::ENABLE_STRIKETHROUGH,
        O::ENABLE_TASKLISTS,
        O::ENABLE_SMART_PUNCTUATION,
        O::ENABLE_HEADING_ATTRIBUTES,
    ];
    flags
        .into_iter()
        .zip(on)
        .filter(|(_, on)| *on)
        .fold(O::empty(), |all, (flag, _)| all | flag)
}
