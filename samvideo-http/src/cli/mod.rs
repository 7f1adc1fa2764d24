//! Subcommands of the `samvideo` binary. Each module has an `Args` struct (clap) and a
//! `run(args) -> ExitCode`.

pub mod keys;
pub mod render;
pub mod serve;
pub mod store;
pub mod validate;
pub mod work;

/// Read a spec from a path, or stdin for `-`.
pub fn read_spec(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}
