//! Object storage: where finished videos, their posters and caption sidecars, previews and AI
//! outputs are kept and served from — a folder (`--objects file:DIR`, the data dir by default,
//! as before) or an S3-compatible bucket (`--objects s3://BUCKET`, `--s3-endpoint`), so API
//! nodes and render workers on several machines see the same files.
//!
//! Objects are named `FOLDER/FILE` ([`OUTPUTS`], [`PREVIEWS`], and, never served, [`PARTS`] and
//! [`MEDIA`] of split renders); a file name is one path
//! segment ([`Objects::put_file`] refuses anything else). A render is written to a local scratch
//! file first and put whole: a folder gets it by rename (or a copy to a hidden name and a
//! rename), a bucket by one PUT or a multipart upload, which S3 shows only once completed, so a
//! half-written object is never served.
//!
//! Enter: [`Objects::open`] with the `--objects` location (a bucket is checked at start: a
//! missing bucket or an unreachable endpoint fails the start, naming the flag); local files
//! in ([`Objects::put_file`]), small objects whole ([`Objects::put_bytes`],
//! [`Objects::get_bytes`]). Leave: downloads through [`serve`] (folders keep tower-http's
//! `ServeDir`), local copies for exports ([`Objects::local_copy`]), deletions.

pub mod location;
pub mod serve;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use tokio::io::AsyncWriteExt;

pub use location::{BadObjectsLocation, ObjectsLocation};

/// Finished videos, their posters and caption sidecars, AI outputs (`/media/outputs/`).
pub const OUTPUTS: &str = "outputs";
/// Preview videos (`/media/previews/`).
pub const PREVIEWS: &str = "previews";
/// The part files of split renders (`--split-renders`), until their video is finalized; never
/// served.
pub const PARTS: &str = "parts";
/// Media fetched once by the prepare step of split renders, named by the SHA-256 of their bytes
/// (`media/HEX`): a cache by content shared across videos; never served. Retention deletes
/// them by age ([`crate::retention`]); the prepare step puts a reused one again once it is a
/// day old, so a sweep never takes media from under a render.
pub const MEDIA: &str = "media";

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectsError {
    /// The object store named by `--objects` cannot be used (checked at start).
    #[error("cannot use the object store {location} (--objects{endpoint}): {reason}")]
    Open {
        /// The location.
        location: String,
        /// `, --s3-endpoint URL` when one is set.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// A file name that is not one plain path segment.
    #[error("invalid object name {0:?}")]
    BadName(String),
    /// A local file could not be read, written or moved.
    #[error("{what} {path}: {source}")]
    Local {
        /// What was being done.
        what: &'static str,
        /// The local path.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
    /// The bucket refused or failed a request.
    #[error("object storage, {key}: {source}")]
    Bucket {
        /// The object's key.
        key: String,
        /// The client's error.
        source: object_store::Error,
    },
}

/// An object as a listing names it ([`Objects::list`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name in its folder.
    pub name: String,
    /// Last modified.
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// One object's size and time, for downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Bytes.
    pub size: u64,
    /// Last modified.
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// The backend.
enum Backend {
    /// A folder.
    Dir(PathBuf),
    /// A bucket (prefix applied).
    Bucket(Arc<dyn ObjectStore>),
}

/// Handle to the object store; cheap to clone.
#[derive(Clone)]
pub struct Objects {
    backend: Arc<Backend>,
}

/// The S3 client's settings besides the bucket: `--s3-endpoint` and the standard `AWS_*`
/// environment (credentials, region).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// `--s3-endpoint` (env `SAMVIDEO_S3_ENDPOINT`): an S3-compatible server's base URL; AWS
    /// itself when `None`.
    pub endpoint: Option<String>,
}

/// A local copy of an object for code that needs a file (FTP/SFTP uploads). A copy downloaded
/// into the scratch folder is deleted when this is dropped; a folder's object is used in place.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    temporary: bool,
}

impl LocalCopy {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `FOLDER/FILE`, with `file` checked to be one plain segment.
fn key(folder: &str, file: &str) -> Result<Key, ObjectsError> {
    let plain = !file.is_empty()
        && !file.starts_with('.')
        && file.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !plain {
        return Err(ObjectsError::BadName(file.to_string()));
    }
    Ok(Key::from(format!("{folder}/{file}")))
}

impl Objects {
    /// Open the object store at `location`. A folder is created when missing; a bucket is
    /// listed once, so a wrong bucket, endpoint or credentials fail here, not at the first
    /// render.
    pub async fn open(location: &ObjectsLocation, s3: &S3Settings) -> Result<Objects, ObjectsError> {
        let open_err = |reason: String| ObjectsError::Open {
            location: location.to_string(),
            endpoint: s3.endpoint.as_ref().map(|e| format!(", --s3-endpoint {e}")).unwrap_or_default(),
            reason,
        };
        let backend = match location {
            ObjectsLocation::Dir(dir) => {
                for sub in [OUTPUTS, PREVIEWS, PARTS, MEDIA] {
                    std::fs::create_dir_all(dir.join(sub)).map_err(|e| open_err(e.to_string()))?;
                }
                Backend::Dir(dir.clone())
            }
            ObjectsLocation::S3 { bucket, prefix } => {
                // Bounded retries: an unreachable endpoint fails the start within seconds, and a
                // request during a short outage still gets a few tries.
                let retry =
                    RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(20), ..Default::default() };
                let client = ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(300));
                let mut builder =
                    AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry).with_client_options(client);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
                    builder = builder.with_region("us-east-1");
                }
                let s3_store = builder.build().map_err(|e| open_err(e.to_string()))?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3_store)
                } else {
                    Arc::new(PrefixStore::new(s3_store, prefix.as_str()))
                };
                store.list_with_delimiter(Some(&Key::from(OUTPUTS))).await.map_err(|e| open_err(e.to_string()))?;
                Backend::Bucket(store)
            }
        };
        Ok(Objects { backend: Arc::new(backend) })
    }

    /// The folder holding `folder`'s objects, when the objects are files (downloads then use
    /// `ServeDir`, exports read them in place).
    pub fn dir(&self, folder: &str) -> Option<PathBuf> {
        match &*self.backend {
            Backend::Dir(root) => Some(root.join(folder)),
            Backend::Bucket(_) => None,
        }
    }

    /// Keep the local file `local` as `folder/file`; `local` is gone afterwards (moved, or
    /// uploaded and removed). The object appears whole or not at all.
    pub async fn put_file(&self, folder: &str, file: &str, local: &Path) -> Result<(), ObjectsError> {
        let key = key(folder, file)?;
        let local_err = |what, source| ObjectsError::Local { what, path: local.display().to_string(), source };
        match &*self.backend {
            Backend::Dir(root) => {
                let dest = root.join(folder).join(file);
                if tokio::fs::rename(local, &dest).await.is_ok() {
                    return Ok(());
                }
                // Another file system: copy under a hidden name beside it, then rename.
                let part = root.join(folder).join(format!(".{file}.part"));
                let copied = match tokio::fs::copy(local, &part).await {
                    Ok(_) => tokio::fs::rename(&part, &dest).await.map_err(|e| local_err("cannot move", e)),
                    Err(e) => Err(local_err("cannot copy", e)),
                };
                if copied.is_err() {
                    let _ = tokio::fs::remove_file(&part).await;
                }
                copied?;
                let _ = tokio::fs::remove_file(local).await;
                Ok(())
            }
            Backend::Bucket(store) => {
                let bucket_err = |source| ObjectsError::Bucket { key: key.to_string(), source };
                let mut input = tokio::fs::File::open(local).await.map_err(|e| local_err("cannot read", e))?;
                // One PUT up to 10 MB, a multipart upload beyond (completed by `shutdown`).
                let mut writer = object_store::buffered::BufWriter::new(store.clone(), key.clone());
                let copied = tokio::io::copy(&mut input, &mut writer).await;
                let done = match copied {
                    Ok(_) => writer.shutdown().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = done {
                    let _ = writer.abort().await;
                    return Err(bucket_err(object_store::Error::Generic { store: "S3", source: Box::new(e) }));
                }
                let _ = tokio::fs::remove_file(local).await;
                Ok(())
            }
        }
    }

    /// Keep `bytes` as `folder/file`, whole or not at all (a folder: written under a hidden name
    /// beside it, then renamed; a bucket: one PUT or a multipart upload).
    pub async fn put_bytes(&self, folder: &str, file: &str, bytes: bytes::Bytes) -> Result<(), ObjectsError> {
        let key = key(folder, file)?;
        match &*self.backend {
            Backend::Dir(root) => {
                let dir = root.join(folder);
                let part = dir.join(format!(".{file}.part"));
                let local_err = |what, source| ObjectsError::Local { what, path: part.display().to_string(), source };
                tokio::fs::create_dir_all(&dir).await.map_err(|e| local_err("cannot create the folder of", e))?;
                let written = match tokio::fs::write(&part, &bytes).await {
                    Ok(()) => tokio::fs::rename(&part, dir.join(file)).await.map_err(|e| local_err("cannot move", e)),
                    Err(e) => Err(local_err("cannot write", e)),
                };
                if written.is_err() {
                    let _ = tokio::fs::remove_file(&part).await;
                }
                written
            }
            Backend::Bucket(store) => {
                let mut writer = object_store::buffered::BufWriter::new(store.clone(), key.clone());
                let done = match writer.write_all(&bytes).await {
                    Ok(()) => writer.shutdown().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = done {
                    let _ = writer.abort().await;
                    let source = object_store::Error::Generic { store: "S3", source: Box::new(e) };
                    return Err(ObjectsError::Bucket { key: key.to_string(), source });
                }
                Ok(())
            }
        }
    }

    /// The bytes of `folder/file`, `None` when it does not exist (for small objects and media
    /// read whole).
    pub async fn get_bytes(&self, folder: &str, file: &str) -> Result<Option<bytes::Bytes>, ObjectsError> {
        let key = key(folder, file)?;
        match &*self.backend {
            Backend::Dir(root) => {
                let path = root.join(folder).join(file);
                match tokio::fs::read(&path).await {
                    Ok(b) => Ok(Some(b.into())),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => {
                        Err(ObjectsError::Local { what: "cannot read", path: path.display().to_string(), source: e })
                    }
                }
            }
            Backend::Bucket(store) => {
                let bucket_err = |source| ObjectsError::Bucket { key: key.to_string(), source };
                match store.get(&key).await {
                    Ok(got) => Ok(Some(got.bytes().await.map_err(bucket_err)?)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(bucket_err(e)),
                }
            }
        }
    }

    /// Delete `folder/file` (a missing object is not an error).
    pub async fn delete(&self, folder: &str, file: &str) -> Result<(), ObjectsError> {
        let key = key(folder, file)?;
        match &*self.backend {
            Backend::Dir(root) => {
                let path = root.join(folder).join(file);
                match tokio::fs::remove_file(&path).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        Err(ObjectsError::Local { what: "cannot delete", path: path.display().to_string(), source: e })
                    }
                    _ => Ok(()),
                }
            }
            Backend::Bucket(store) => match store.delete(&key).await {
                Err(e) if !matches!(e, object_store::Error::NotFound { .. }) => {
                    Err(ObjectsError::Bucket { key: key.to_string(), source: e })
                }
                _ => Ok(()),
            },
        }
    }

    /// The objects of `folder`: name and last-modified time, in no particular order (a folder
    /// that does not exist yet has none). In a folder of files, a hidden `.NAME.part` is a copy
    /// on its way in ([`Objects::put_file`]) and is listed too: its own age says when it is
    /// stale.
    pub async fn list(&self, folder: &str) -> Result<Vec<Listed>, ObjectsError> {
        let mut listed = Vec::new();
        match &*self.backend {
            Backend::Dir(root) => {
                let dir = root.join(folder);
                let local_err =
                    |source| ObjectsError::Local { what: "cannot list", path: dir.display().to_string(), source };
                let mut entries = match tokio::fs::read_dir(&dir).await {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listed),
                    Err(e) => return Err(local_err(e)),
                };
                while let Some(e) = entries.next_entry().await.map_err(local_err)? {
                    let Ok(meta) = e.metadata().await else { continue };
                    let Ok(modified) = meta.modified() else { continue };
                    if meta.is_file() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        listed.push(Listed { name, modified: modified.into() });
                    }
                }
            }
            Backend::Bucket(store) => {
                let prefix = Key::from(folder);
                let bucket_err = |source| ObjectsError::Bucket { key: prefix.to_string(), source };
                let mut objects = store.list(Some(&prefix));
                while let Some(meta) = futures_util::StreamExt::next(&mut objects).await {
                    let meta = meta.map_err(bucket_err)?;
                    // Only the folder's own objects (`FOLDER/FILE`), never a deeper key.
                    let Some(name) = meta.location.as_ref().strip_prefix(&format!("{folder}/")) else { continue };
                    if !name.contains('/') {
                        listed.push(Listed { name: name.to_owned(), modified: meta.last_modified });
                    }
                }
            }
        }
        Ok(listed)
    }

    /// Delete the objects of `folder` last modified before `before` (retention of previews and
    /// fetched media); the names deleted. A name another node deleted first is not an error.
    pub async fn delete_older(
        &self,
        folder: &str,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, ObjectsError> {
        let mut old = Vec::new();
        for object in self.list(folder).await? {
            if object.modified < before {
                self.delete_listed(folder, &object.name).await?;
                old.push(object.name);
            }
        }
        Ok(old)
    }

    /// Delete `folder/name` as [`Objects::list`] named it, whatever the name (a hidden
    /// `.NAME.part` copy in a folder of files, a key another program put in a bucket), unlike
    /// [`Objects::delete`], which takes only the names this server makes. A missing object is
    /// fine.
    pub async fn delete_listed(&self, folder: &str, name: &str) -> Result<(), ObjectsError> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(ObjectsError::BadName(name.to_owned()));
        }
        match &*self.backend {
            Backend::Dir(root) => {
                let path = root.join(folder).join(name);
                match tokio::fs::remove_file(&path).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        Err(ObjectsError::Local { what: "cannot delete", path: path.display().to_string(), source: e })
                    }
                    _ => Ok(()),
                }
            }
            Backend::Bucket(store) => {
                let key = Key::parse(format!("{folder}/{name}")).map_err(|_| ObjectsError::BadName(name.to_owned()))?;
                match store.delete(&key).await {
                    Err(e) if !matches!(e, object_store::Error::NotFound { .. }) => {
                        Err(ObjectsError::Bucket { key: key.to_string(), source: e })
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Size and time of `folder/file`, `None` when it does not exist.
    pub async fn info(&self, folder: &str, file: &str) -> Result<Option<ObjectInfo>, ObjectsError> {
        let key = key(folder, file)?;
        match &*self.backend {
            Backend::Dir(root) => {
                let path = root.join(folder).join(file);
                match tokio::fs::metadata(&path).await {
                    Ok(m) => Ok(Some(ObjectInfo {
                        size: m.len(),
                        modified: m.modified().map(chrono::DateTime::from).unwrap_or_default(),
                    })),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => {
                        Err(ObjectsError::Local { what: "cannot read", path: path.display().to_string(), source: e })
                    }
                }
            }
            Backend::Bucket(store) => match store.head(&key).await {
                Ok(meta) => Ok(Some(ObjectInfo { size: meta.size, modified: meta.last_modified })),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(ObjectsError::Bucket { key: key.to_string(), source: e }),
            },
        }
    }

    /// A local file with the bytes of `folder/file`: the object itself for a folder, else a
    /// copy downloaded into `scratch` (deleted with the [`LocalCopy`]).
    pub async fn local_copy(&self, folder: &str, file: &str, scratch: &Path) -> Result<LocalCopy, ObjectsError> {
        let key = key(folder, file)?;
        match &*self.backend {
            Backend::Dir(root) => Ok(LocalCopy { path: root.join(folder).join(file), temporary: false }),
            Backend::Bucket(store) => {
                let path = scratch.join(format!("download-{}-{file}", uuid::Uuid::new_v4().simple()));
                let copy = LocalCopy { path, temporary: true };
                let bucket_err = |source| ObjectsError::Bucket { key: key.to_string(), source };
                let local_err = |source| ObjectsError::Local {
                    what: "cannot write",
                    path: copy.path.display().to_string(),
                    source,
                };
                let got = store.get(&key).await.map_err(bucket_err)?;
                let mut out = tokio::fs::File::create(&copy.path).await.map_err(local_err)?;
                let mut stream = got.into_stream();
                while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                    out.write_all(&chunk.map_err(bucket_err)?).await.map_err(local_err)?;
                }
                out.flush().await.map_err(local_err)?;
                Ok(copy)
            }
        }
    }

    /// The bytes `range` of `folder/file` as a stream (bucket downloads).
    async fn stream(
        &self,
        folder: &str,
        file: &str,
        range: std::ops::Range<u64>,
    ) -> Result<futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>, ObjectsError> {
        let key = key(folder, file)?;
        match &*self.backend {
            Backend::Dir(_) => Err(ObjectsError::BadName(format!("{key} (a folder's objects are served as files)"))),
            Backend::Bucket(store) => {
                let options = object_store::GetOptions {
                    range: Some(object_store::GetRange::Bounded(range)),
                    ..Default::default()
                };
                let got = store
                    .get_opts(&key, options)
                    .await
                    .map_err(|source| ObjectsError::Bucket { key: key.to_string(), source })?;
                Ok(got.into_stream())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_plain_segment() {
        assert_eq!(key(OUTPUTS, "ab-1.mp4").expect("plain").as_ref(), "outputs/ab-1.mp4");
        for bad in ["", "../x.mp4", "a/b.mp4", ".hidden", "a b.mp4", "x\\y"] {
            assert!(key(OUTPUTS, bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_folder_keeps_files_where_they_were_kept_before() {
        let dir = tempfile::tempdir().expect("tmp");
        let objects =
            Objects::open(&ObjectsLocation::Dir(dir.path().into()), &S3Settings::default()).await.expect("open");
        let scratch = dir.path().join("x.part");
        std::fs::write(&scratch, b"video").expect("write");
        objects.put_file(OUTPUTS, "t.mp4", &scratch).await.expect("put");
        assert!(!scratch.exists(), "moved");
        assert_eq!(std::fs::read(dir.path().join("outputs/t.mp4")).expect("kept"), b"video");
        assert_eq!(objects.info(OUTPUTS, "t.mp4").await.expect("info").map(|i| i.size), Some(5));
        let copy = objects.local_copy(OUTPUTS, "t.mp4", dir.path()).await.expect("copy");
        assert_eq!(copy.path(), dir.path().join("outputs/t.mp4"));
        drop(copy);
        assert!(dir.path().join("outputs/t.mp4").exists(), "a folder's object is used in place, not deleted");
        objects.delete(OUTPUTS, "t.mp4").await.expect("delete");
        objects.delete(OUTPUTS, "t.mp4").await.expect("deleting a missing object is fine");
        assert_eq!(objects.info(OUTPUTS, "t.mp4").await.expect("info"), None);
    }
}
