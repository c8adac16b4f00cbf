//! The fingerprint component: splits and tokenizes SQL through the sql
//! component (the PyPI package sqlparse, written in Python), normalizes each
//! statement and hashes it through the hash component (sha2, written in
//! Rust), as a query log groups statements that differ only in layout,
//! comments, letter case or literal values.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use bindings::exports::nanoproc::fingerprint::queries::{Guest, Query};
use bindings::nanoproc::hash::digest::{self, Algorithm};
use bindings::nanoproc::sql::text::{self, Token, TokenKind};

struct Fingerprint;

impl Guest for Fingerprint {
    fn fingerprint(script: String) -> Vec<Query> {
        text::split(&script)
            .into_iter()
            .filter_map(|statement| {
                let normalized = normalize(&text::tokens(&statement));
                if normalized.is_empty() {
                    return None;
                }
                let fingerprint = digest::hash_hex(Algorithm::Sha256, normalized.as_bytes());
                Some(Query {
                    text: statement,
                    normalized,
                    fingerprint,
                })
            })
            .collect()
    }
}

/// The normalized text of a statement's tokens, as `nanoproc:fingerprint/queries` describes it.
fn normalize(tokens: &[Token]) -> String {
    let mut pieces: Vec<String> = tokens
        .iter()
        .filter_map(|token| {
            Some(match token.kind {
                TokenKind::Whitespace | TokenKind::Comment => return None,
                TokenKind::Keyword => token.text.to_uppercase(),
                TokenKind::Name if token.ttype == "Name.Placeholder" => "?".to_string(),
                TokenKind::Name if token.text.starts_with(['"', '`', '[']) => token.text.clone(),
                TokenKind::Name => token.text.to_lowercase(),
                TokenKind::Literal => "?".to_string(),
                TokenKind::Operator | TokenKind::Punctuation | TokenKind::Other => {
                    token.text.clone()
                }
            })
        })
        .collect();
    if pieces.last().is_some_and(|p| p == ";") {
        pieces.pop();
    }
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for piece in &pieces {
        if let Some(previous) = previous
            && !matches!(previous, "(" | ".")
            && !matches!(piece.as_str(), ")" | "," | ".")
        {
            out.push(' ');
        }
        out.push_str(piece);
        previous = Some(piece);
    }
    out
}

bindings::export!(Fingerprint with_types_in bindings);
