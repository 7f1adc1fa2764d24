//! The store flags of the subcommands that work on a server's store without running it
//! (`samvideo keys`, `samvideo credits`): `--data-dir` and `--store`, read like `serve` reads
//! them (same environment variables, same default), and opening the store they name.

use std::path::PathBuf;

use crate::store::{Store, StoreLocation};

/// Which store a subcommand works on.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreFlags {
    /// Data directory of the server (holds the default store).
    #[arg(long, env = "SAMVIDEO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The server's store: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE
    /// [default: sqlite:DATA_DIR/samvideo.db].
    #[arg(long, env = "SAMVIDEO_STORE")]
    pub store: Option<StoreLocation>,
}

impl StoreFlags {
    /// The store named: `--store`, else the SQLite file in the data dir.
    pub fn location(&self) -> StoreLocation {
        self.store.clone().unwrap_or_else(|| StoreLocation::Sqlite(self.data_dir.join("samvideo.db")))
    }

    /// Open it. A missing SQLite file is created when `create` (with its folder), refused
    /// otherwise (a typo in `--data-dir` must not look like an empty account list).
    pub fn open(&self, create: bool) -> Result<Store, String> {
        let location = self.location();
        if let StoreLocation::Sqlite(path) = &location {
            if !create && !path.exists() {
                return Err(format!("no samvideo database at {}", path.display()));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
        }
        Store::connect(&location).map_err(|e| e.to_string())
    }
}
