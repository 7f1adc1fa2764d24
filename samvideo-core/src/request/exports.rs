//! `exports`: where a finished video is delivered (webhook, email, FTP, SFTP).

use serde::{Deserialize, Serialize};

/// The `exports` object (root, or inside `data` / `config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Exports {
    /// Receives `video.completed` / `video.failed` as signed JSON.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// HMAC key for `X-Samautomation-Signature`.
    #[serde(default)]
    pub callback_secret: Option<String>,
    /// At most 5 destinations.
    #[serde(default)]
    pub destinations: Vec<Destination>,
}

/// One delivery destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Destination {
    /// A mail with the output link.
    Email {
        /// One or more recipients.
        to: OneOrMany,
    },
    /// Upload over FTP (passive).
    Ftp {
        /// Server host name.
        host: String,
        /// Port (21).
        #[serde(default)]
        port: Option<u16>,
        /// Login.
        username: String,
        /// Password.
        password: String,
        /// A directory (ending in `/`) or a full file path.
        path: String,
    },
    /// Upload over SFTP.
    Sftp {
        /// Server host name.
        host: String,
        /// Port (22).
        #[serde(default)]
        port: Option<u16>,
        /// Login.
        username: String,
        /// Password (or use `private_key`).
        #[serde(default)]
        password: Option<String>,
        /// PEM private key (or use `password`).
        #[serde(default)]
        private_key: Option<String>,
        /// A directory (ending in `/`) or a full file path.
        path: String,
    },
}

/// A string or an array of strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    /// All values as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}
