//! # samvideo-http
//!
//! The thin facade over `samvideo-core`: the `samvideo` binary's subcommands (`cli/`) and,
//! as it grows, the HTTP API (routes, auth, limits, store, jobs, exports).

pub mod cli;
