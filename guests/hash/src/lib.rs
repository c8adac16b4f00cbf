//! The hash component: the sha2 crate behind `nanoproc:hash/digest`.

#[rustfmt::skip]
#[allow(warnings, clippy::all)]
mod bindings;

use std::cell::RefCell;

use bindings::exports::nanoproc::hash::digest::{Algorithm, Guest, GuestHasher};
use sha2::{Digest as _, Sha224, Sha256, Sha384, Sha512};

struct Hash;

impl Guest for Hash {
    type Hasher = Hasher;

    fn hash(algorithm: Algorithm, data: Vec<u8>) -> Vec<u8> {
        let mut state = State::new(algorithm);
        state.update(&data);
        state.finish()
    }

    fn hash_hex(algorithm: Algorithm, data: Vec<u8>) -> String {
        let digest = Self::hash(algorithm, data);
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 15)]));
        }
        hex
    }
}

/// The `hasher` resource: one incremental digest.
struct Hasher(RefCell<State>);

impl GuestHasher for Hasher {
    fn new(algorithm: Algorithm) -> Self {
        Self(RefCell::new(State::new(algorithm)))
    }

    fn update(&self, data: Vec<u8>) {
        self.0.borrow_mut().update(&data);
    }

    fn finish(&self) -> Vec<u8> {
        self.0.borrow_mut().finish()
    }
}

enum State {
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl State {
    fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha224 => Self::Sha224(Sha224::new()),
            Algorithm::Sha256 => Self::Sha256(Sha256::new()),
            Algorithm::Sha384 => Self::Sha384(Sha384::new()),
            Algorithm::Sha512 => Self::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha224(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    /// The digest so far; the state starts again empty.
    fn finish(&mut self) -> Vec<u8> {
        match self {
            Self::Sha224(h) => h.finalize_reset().to_vec(),
            Self::Sha256(h) => h.finalize_reset().to_vec(),
            Self::Sha384(h) => h.finalize_reset().to_vec(),
            Self::Sha512(h) => h.finalize_reset().to_vec(),
        }
    }
}

bindings::export!(Hash with_types_in bindings);
