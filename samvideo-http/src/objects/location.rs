//! Where outputs live, as `--objects` (env `SAMVIDEO_OBJECTS`) names it: `file:DIR` (a folder;
//! the default is the data dir, as before object storage) or `s3://BUCKET[/PREFIX]` (an
//! S3-compatible bucket, reached at `--s3-endpoint`).
//!
//! Enter: the flag's text ([`ObjectsLocation::from_str`]). Leave: the location, for the
//! object store to open and for logs and error messages ([`std::fmt::Display`]).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// An object store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectsLocation {
    /// A folder: objects are files under it (`outputs/ID.mp4`, `previews/...`).
    Dir(PathBuf),
    /// An S3-compatible bucket, with an optional key prefix (no leading or trailing `/`).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Prefix of every key, empty for none.
        prefix: String,
    },
}

/// `--objects` text that names no object store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid objects location {0:?} (expected file:DIR or s3://BUCKET[/PREFIX])")]
pub struct BadObjectsLocation(pub String);

impl FromStr for ObjectsLocation {
    type Err = BadObjectsLocation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || BadObjectsLocation(s.to_string());
        if let Some(dir) = s.strip_prefix("file:") {
            let dir = dir.strip_prefix("//").unwrap_or(dir);
            return if dir.is_empty() { Err(bad()) } else { Ok(ObjectsLocation::Dir(PathBuf::from(dir))) };
        }
        let rest = s.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's bucket naming rules: 3..63 lowercase letters, digits, dots and hyphens.
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !bucket_ok || prefix.split('/').any(|p| p == "..") {
            return Err(bad());
        }
        Ok(ObjectsLocation::S3 { bucket: bucket.to_string(), prefix: prefix.trim_matches('/').to_string() })
    }
}

impl fmt::Display for ObjectsLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectsLocation::Dir(dir) => write!(f, "file:{}", dir.display()),
            ObjectsLocation::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            ObjectsLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_folders_and_buckets() {
        assert_eq!("file:/srv/videos".parse(), Ok(ObjectsLocation::Dir("/srv/videos".into())));
        assert_eq!("file:///srv/v".parse(), Ok(ObjectsLocation::Dir("/srv/v".into())));
        let s3: ObjectsLocation = "s3://my-videos".parse().expect("bucket");
        assert_eq!(s3, ObjectsLocation::S3 { bucket: "my-videos".into(), prefix: String::new() });
        assert_eq!(s3.to_string(), "s3://my-videos");
        let s3: ObjectsLocation = "s3://my-videos/prod/".parse().expect("bucket and prefix");
        assert_eq!(s3.to_string(), "s3://my-videos/prod");
        for bad in ["", "file:", "s3://", "s3://ab", "s3://Upper", "/srv/videos", "gs://b", "s3://bucket/../x"] {
            let err = bad.parse::<ObjectsLocation>().expect_err(bad);
            assert!(err.to_string().contains("expected file:DIR or s3://BUCKET"), "{err}");
        }
    }
}
