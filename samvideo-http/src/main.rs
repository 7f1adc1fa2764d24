//! The `samvideo` binary: `serve`, `work`, `render`, `validate`, `keys`, `credits`, `store`. Glue only: each
//! subcommand lives in `samvideo_http::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use samvideo_http::cli;

/// mimalloc instead of glibc malloc: the render threads (compositor, rav1e's pool, decoders)
/// allocate and free megabyte frame buffers across threads, and glibc's per-thread arenas keep
/// the freed pages, so peak RSS grew with the video's length (docs/performance.md, "Memory").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "samvideo", version, about = "JSON in, video out: render AV1 MP4s from JSON specs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    // Boxed: its many flags make it ~8x the size of the other variants (clippy::large_enum_variant).
    Serve(Box<cli::serve::ServeArgs>),
    /// Run render workers without the HTTP API (beside API nodes, on a shared store).
    Work(Box<cli::work::WorkArgs>),
    /// Render a spec file to a video.
    Render(cli::render::RenderArgs),
    /// Validate a spec file; prints the API's error body and exits 1 when rejected.
    Validate(cli::validate::ValidateArgs),
    /// Manage API keys.
    Keys(cli::keys::KeysArgs),
    /// Grant AI credits and audit the credits ledger.
    Credits(samvideo_http::credits::cli::CreditsArgs),
    /// Move a store: `migrate` copies a SQLite store into an empty Postgres one.
    Store(cli::store::StoreArgs),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    match args.command {
        Command::Serve(a) => cli::serve::run(*a),
        Command::Work(a) => cli::work::run(*a),
        Command::Render(a) => cli::render::run(a),
        Command::Validate(a) => cli::validate::run(a),
        Command::Keys(a) => cli::keys::run(a),
        Command::Credits(a) => samvideo_http::credits::cli::run(a),
        Command::Store(a) => cli::store::run(a),
    }
}
