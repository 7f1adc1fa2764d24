//! The prepare step of a split render (`--split-renders`; docs/scale-out.md "One render split
//! across workers"): each media URL of a video is fetched once, into the object store by
//! digest, and every part and the finalize read it from there.
//!
//! Where: inside the coordination of the video, before its parts are queued — under the
//! video's own lease and heartbeat, so no new task kind, claim or fencing rule is needed (a
//! `prepare` part that the other parts wait for would add a dependency between tasks to the
//! claim, and its output would still have to reach the coordinator, which lowers the plan
//! anyway to know the parts). A coordinator that dies while preparing leaves the lease to run
//! out, like one that dies later. The
//! coordinator lowers the request with `samvideo_core::render::parts::prepare` (the plan, the
//! visual media checked as a segment part checks them, the audio mix's sources opened) through
//! a [`Recording`] source around the server's one fetcher ([`super::source::media_source`]:
//! SSRF policy, size and time limits, `bundled:` examples), so the URLs prepared are exactly
//! those the render reads, and a bad item fails the video before any part, with the message an
//! in-process render gives (`media_list[2] (URL): HTTP 404`). Each distinct body is kept as
//! `media/SHA256HEX` ([`MEDIA`]): skipped when that object exists and is younger than
//! [`REFRESH_AFTER`] (a cache by content across videos; an older one is put again so a sweep
//! of `media/` by age does not take it from under a render). Then the video's [`Manifest`]
//! (URL → digest, JSON) is written as `parts/VIDEO.media.json`, after every object it names.
//!
//! A coordinator that finds the manifest (it took over from one that died after writing it)
//! fetches nothing: it lowers the plan through a [`Prepared`] source. One that died before
//! leaves no manifest, and the next prepares again (the media it kept are found by digest).
//! Parts are queued only after the manifest, so a part's worker always finds it (through its
//! row's `parent_id`) and reads every URL through [`Prepared`]: from `media/`, its SHA-256
//! checked against the name, never from the origin; a URL the manifest lacks is refused. The
//! manifest goes with the part objects once the video has ended.
//!
//! The manifest is written once per video in practice: a coordinator writes it only while it
//! holds the lease and only when none exists (read again just before the write). Two could
//! still race if one froze past its lease between that read and its write; both manifests name
//! the same URLs, and differ only if the origin changed a body between their two fetches.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use samvideo_core::media::{MediaError, MediaSource};
use sha2::{Digest, Sha256};

use crate::objects::{Objects, ObjectsError, MEDIA, PARTS};

/// A kept medium older than this is put again by the next prepare that uses it, refreshing its
/// age (a sweep of `media/` by age then spares media a video is being rendered from).
pub(super) const REFRESH_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Media puts in flight at once.
const PUTS_AT_ONCE: usize = 8;

/// The manifest's format version.
const VERSION: u32 = 1;

/// Why the prepared media of a video could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub(super) enum PrepareError {
    /// A fetched medium could not be put into the object store.
    #[error("cannot keep the media {url} as {MEDIA}/{digest}: {source}")]
    Keep {
        /// The media URL.
        url: String,
        /// Its SHA-256.
        digest: String,
        /// The store's error.
        source: ObjectsError,
    },
    /// The manifest could not be read or written.
    #[error("the media manifest {PARTS}/{name}: {source}")]
    Manifest {
        /// Its object name under `parts/`.
        name: String,
        /// The store's error.
        source: ObjectsError,
    },
    /// The manifest is not one this build reads.
    #[error("the media manifest {PARTS}/{name} is damaged: {reason}")]
    Damaged {
        /// Its object name under `parts/`.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A part's video has no manifest (it was never prepared, or it ended and its manifest went).
    #[error("the media manifest {PARTS}/{0} is missing: the video's media were not prepared")]
    Missing(String),
    /// A part task names no video.
    #[error("part task {0} names no video")]
    NoParent(String),
}

impl PrepareError {
    /// The object store failed (putting a medium, reading or writing the manifest): a later
    /// attempt may succeed, so the video goes back to the queue (`lease::unstored`).
    pub(super) fn is_store_failure(&self) -> bool {
        matches!(self, PrepareError::Keep { .. } | PrepareError::Manifest { .. })
    }
}

/// What the prepare step recorded for one video: each media URL it read and the SHA-256 (hex) of
/// its bytes, kept as `media/DIGEST`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Manifest {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// URL → digest.
    pub media: BTreeMap<String, String>,
}

/// The object name (under `parts/`) of the manifest of `video`.
pub(super) fn manifest_name(video: &str) -> String {
    format!("{video}.media.json")
}

/// Lowercase hex SHA-256 of `bytes`: a medium's object name under `media/`.
pub(super) fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The manifest of `video`, `None` when it was not written (yet).
pub(super) async fn read_manifest(objects: &Objects, video: &str) -> Result<Option<Manifest>, PrepareError> {
    let name = manifest_name(video);
    let Some(bytes) = objects
        .get_bytes(PARTS, &name)
        .await
        .map_err(|source| PrepareError::Manifest { name: name.clone(), source })?
    else {
        return Ok(None);
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| PrepareError::Damaged { name: name.clone(), reason: e.to_string() })?;
    if manifest.version != VERSION {
        return Err(PrepareError::Damaged { name, reason: format!("format version {}", manifest.version) });
    }
    Ok(Some(manifest))
}

/// Keep the media `fetched` (URL → bytes) under `media/` by digest and write the manifest of
/// `video` naming them, while `held()` (the coordination still holds the video's lease); the
/// manifest, or `None` when it was not held at the end.
pub(super) async fn keep_media(
    objects: &Objects,
    video: &str,
    fetched: BTreeMap<String, Arc<Vec<u8>>>,
    held: impl Fn() -> bool,
) -> Result<Option<Manifest>, PrepareError> {
    let fresh_since = chrono::Utc::now() - chrono::Duration::from_std(REFRESH_AFTER).unwrap_or_default();
    let mut media = BTreeMap::new();
    let mut bodies = BTreeMap::new();
    for (url, bytes) in fetched {
        let d = digest(&bytes);
        media.insert(url.clone(), d.clone());
        bodies.entry(d).or_insert((url, bytes));
    }
    let mut puts = futures_util::stream::iter(bodies)
        .map(|(d, (url, bytes))| async move {
            let keep = |source| PrepareError::Keep { url: url.clone(), digest: d.clone(), source };
            let kept = objects.info(MEDIA, &d).await.map_err(keep)?;
            if kept.is_none_or(|i| i.modified < fresh_since) {
                objects.put_bytes(MEDIA, &d, bytes::Bytes::from(bytes.to_vec())).await.map_err(keep)?;
            }
            Ok::<(), PrepareError>(())
        })
        .buffer_unordered(PUTS_AT_ONCE);
    while let Some(put) = puts.next().await {
        put?;
    }
    // Another coordinator (this one froze past its lease) may have written it meanwhile: the
    // parts queued may already read it.
    if let Some(written) = read_manifest(objects, video).await? {
        return Ok(Some(written));
    }
    if !held() {
        return Ok(None);
    }
    let manifest = Manifest { version: VERSION, media };
    let name = manifest_name(video);
    let json = serde_json::to_vec(&manifest)
        .map_err(|e| PrepareError::Damaged { name: name.clone(), reason: e.to_string() })?;
    objects.put_bytes(PARTS, &name, json.into()).await.map_err(|source| PrepareError::Manifest { name, source })?;
    Ok(Some(manifest))
}

/// A source that fetches through `inner` and keeps every body it fetched, by URL (the prepare
/// step's view of the server's fetcher). Errors pass through unrecorded.
pub(super) struct Recording {
    inner: Arc<dyn MediaSource>,
    fetched: Mutex<BTreeMap<String, Arc<Vec<u8>>>>,
}

impl Recording {
    /// Record what `inner` fetches.
    pub(super) fn new(inner: Arc<dyn MediaSource>) -> Recording {
        Recording { inner, fetched: Mutex::default() }
    }

    /// The bodies fetched so far, by URL.
    pub(super) fn take(&self) -> BTreeMap<String, Arc<Vec<u8>>> {
        std::mem::take(&mut *self.fetched.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn record(&self, url: &str, bytes: Arc<Vec<u8>>) -> Arc<Vec<u8>> {
        self.fetched.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_owned(), bytes.clone());
        bytes
    }
}

impl MediaSource for Recording {
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        Ok(self.record(url, self.inner.fetch(url)?))
    }

    fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
        Ok(self.record(url, self.inner.fetch_at_most(url, max_bytes)?))
    }
}

/// A source that serves a video's prepared media from `media/` by the digest its manifest
/// names, checking the SHA-256 of what it reads; it never contacts an origin. Blocking: call
/// it off the async runtime (renders run on blocking threads), as every [`MediaSource`].
pub(super) struct Prepared {
    manifest: Manifest,
    objects: Objects,
    runtime: tokio::runtime::Handle,
}

impl Prepared {
    /// Serve `manifest`'s media from `objects`, reading them on `runtime`.
    pub(super) fn new(manifest: Manifest, objects: Objects, runtime: tokio::runtime::Handle) -> Prepared {
        Prepared { manifest, objects, runtime }
    }
}

impl MediaSource for Prepared {
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        let Some(d) = self.manifest.media.get(url) else {
            return Err(MediaError::Io { path: url.to_owned(), reason: "not among the video's prepared media".into() });
        };
        let path = format!("{MEDIA}/{d}");
        let io = |reason: String| MediaError::Io { path: path.clone(), reason };
        let bytes = self
            .runtime
            .block_on(self.objects.get_bytes(MEDIA, d))
            .map_err(|e| io(e.to_string()))?
            .ok_or_else(|| io("not in the object store".into()))?;
        let found = digest(&bytes);
        if found != *d {
            return Err(io(format!("its bytes have the SHA-256 {found}, not the one it is named by")));
        }
        Ok(Arc::new(bytes.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{ObjectsLocation, S3Settings};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prepared_media_are_kept_once_by_digest_and_read_back_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let objects =
            Objects::open(&ObjectsLocation::Dir(dir.path().into()), &S3Settings::default()).await.expect("open");
        let body = Arc::new(b"a still".to_vec());
        let fetched = BTreeMap::from([
            ("http://a/x.png".to_owned(), body.clone()),
            ("http://b/same.png".to_owned(), body.clone()),
            ("http://a/y.wav".to_owned(), Arc::new(b"music".to_vec())),
        ]);
        let manifest = keep_media(&objects, "v1", fetched, || true).await.expect("kept").expect("written");
        let d = digest(&body);
        assert_eq!(manifest.media["http://a/x.png"], d);
        assert_eq!(manifest.media["http://b/same.png"], d, "one object for one body");
        let mut kept: Vec<_> = std::fs::read_dir(dir.path().join(MEDIA))
            .expect("media")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        kept.sort();
        let mut expected = vec![d.clone(), digest(b"music")];
        expected.sort();
        assert_eq!(kept, expected);
        assert_eq!(read_manifest(&objects, "v1").await.expect("read"), Some(manifest.clone()));
        assert_eq!(read_manifest(&objects, "v2").await.expect("read"), None);

        let source = Prepared::new(manifest, objects, tokio::runtime::Handle::current());
        let (ok, unknown, damaged) = tokio::task::spawn_blocking(move || {
            let ok = source.fetch("http://b/same.png");
            let unknown = source.fetch("http://elsewhere/z.png");
            std::fs::write(dir.path().join(MEDIA).join(&d), b"another body").expect("damage");
            let damaged = source.fetch("http://a/x.png");
            (ok, unknown, damaged)
        })
        .await
        .expect("thread");
        assert_eq!(ok.expect("read back").as_slice(), b"a still");
        let unknown = unknown.expect_err("not prepared").to_string();
        assert!(unknown.contains("not among the video's prepared media"), "{unknown}");
        let damaged = damaged.expect_err("digest checked").to_string();
        assert!(damaged.contains("not the one it is named by"), "{damaged}");
    }
}
