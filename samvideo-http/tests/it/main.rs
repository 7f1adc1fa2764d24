//! samvideo-http's integration tests in one binary (samvideo-core's codecs and the server are
//! linked once, not once per file); each module was its own test binary before and keeps its
//! name. Run one module with `cargo test --workspace --test it exports::`. [`support`] starts
//! servers and speaks the API; ffmpeg/ffprobe helpers come from `samvideo-test-support`.

mod ai;
mod cli_render_parts;
mod cli_validate;
mod exports;
mod http_api;
mod http_lifecycle;
mod http_restart;
mod ingest_jobs;
mod multi_node;
mod openapi;
mod playground;
mod retention;
mod scale_out;
mod store;
mod store_nodes;
mod support;
mod uploads;
