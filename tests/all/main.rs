//! The integration tests: one binary, a module per area.

mod cache;
mod compose;
mod compress;
mod demo;
mod deny;
mod foreign;
mod fuzz;
mod grants;
mod guests;
mod hash;
mod host;
mod http;
mod json;
mod least;
mod logger;
mod lz4;
mod markdown;
mod publish;
mod runtimes;
mod sandbox;
mod serve;
mod site;
mod slug;
mod soak;
mod typed;
mod wasi;
