//! [`BundledSource`]: the [`MediaSource`] that answers `bundled:` URLs with the built-in files
//! ([`super::FILES`]) and hands every other URL to the source it wraps (the server's
//! SSRF-safe [`samvideo_core::media::http::HttpSource`]). Nothing is read from disk or the
//! network for a `bundled:` URL; an unknown name fails with the list of known ones, and the
//! renderer names the media item it belongs to (`media_list[0] (bundled:x): ...`).

use std::collections::HashMap;
use std::sync::Arc;

use samvideo_core::media::{MediaError, MediaSource};

use super::{FILES, SCHEME};

/// Built-in files first, everything else through `inner`.
pub struct BundledSource {
    /// `social/portrait-1.jpg` -> its bytes, shared by every fetch.
    files: HashMap<String, Arc<Vec<u8>>>,
    /// Where every URL not starting with `bundled:` goes.
    inner: Arc<dyn MediaSource>,
}

impl BundledSource {
    /// Answer `bundled:` URLs from [`FILES`], defer the rest to `inner`.
    pub fn new(inner: Arc<dyn MediaSource>) -> Self {
        let files = FILES.iter().map(|f| (f.path(), Arc::new(f.bytes.to_vec()))).collect();
        BundledSource { files, inner }
    }

    /// The bytes of the built-in `path` (after the scheme), or why not.
    fn built_in(&self, url: &str, path: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        self.files.get(path).cloned().ok_or_else(|| {
            let known: Vec<String> = FILES.iter().map(|f| f.url()).collect();
            MediaError::Io {
                path: url.to_string(),
                reason: format!("no such built-in file (known: {})", known.join(", ")),
            }
        })
    }
}

impl MediaSource for BundledSource {
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        match url.strip_prefix(SCHEME) {
            Some(path) => self.built_in(url, path),
            None => self.inner.fetch(url),
        }
    }

    fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
        let Some(path) = url.strip_prefix(SCHEME) else { return self.inner.fetch_at_most(url, max_bytes) };
        let bytes = self.built_in(url, path)?;
        if bytes.len() as u64 > max_bytes {
            return Err(MediaError::TooLarge(max_bytes));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An inner source that records what it was asked and answers `HTTP 404`.
    #[derive(Default)]
    struct Recording(Mutex<Vec<(String, Option<u64>)>>);

    impl MediaSource for Recording {
        fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
            self.0.lock().expect("lock").push((url.to_string(), None));
            Err(MediaError::HttpStatus(404))
        }
        fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
            self.0.lock().expect("lock").push((url.to_string(), Some(max_bytes)));
            Err(MediaError::HttpStatus(404))
        }
    }

    #[test]
    fn built_in_urls_answer_the_example_files_without_the_inner_source() {
        let inner = Arc::new(Recording::default());
        let source = BundledSource::new(inner.clone());
        let disk =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/social/portrait-1.jpg")).expect("read");
        assert_eq!(source.fetch("bundled:social/portrait-1.jpg").expect("built in").as_slice(), disk.as_slice());
        let voice = source.fetch_at_most("bundled:social/voice.mp3", 1 << 20).expect("under the limit");
        assert!(voice.len() > 1000);
        assert_eq!(source.fetch_at_most("bundled:social/voice.mp3", 10), Err(MediaError::TooLarge(10)));
        assert!(inner.0.lock().expect("lock").is_empty(), "no built-in URL reached the inner source");
    }

    #[test]
    fn unknown_built_in_names_fail_listing_the_known_ones() {
        let inner = Arc::new(Recording::default());
        let source = BundledSource::new(inner.clone());
        for url in ["bundled:social/nope.jpg", "bundled:portrait-1.jpg", "bundled://social/portrait-1.jpg"] {
            let e = source.fetch(url).expect_err(url).to_string();
            assert!(e.starts_with(&format!("cannot read {url}: no such built-in file")), "{e}");
            assert!(e.contains("bundled:social/portrait-1.jpg, bundled:social/portrait-2.jpg"), "{e}");
            assert!(source.fetch_at_most(url, 1 << 20).is_err());
        }
        assert!(inner.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn every_other_url_goes_to_the_inner_source_unchanged() {
        let inner = Arc::new(Recording::default());
        let source = BundledSource::new(inner.clone());
        assert_eq!(source.fetch("https://cdn.example.com/a.jpg"), Err(MediaError::HttpStatus(404)));
        assert_eq!(source.fetch_at_most("http://127.0.0.1/social/voice.mp3", 7), Err(MediaError::HttpStatus(404)));
        assert_eq!(source.fetch("Bundled:social/voice.mp3"), Err(MediaError::HttpStatus(404)), "the scheme is exact");
        let asked = inner.0.lock().expect("lock").clone();
        assert_eq!(
            asked,
            vec![
                ("https://cdn.example.com/a.jpg".to_string(), None),
                ("http://127.0.0.1/social/voice.mp3".to_string(), Some(7)),
                ("Bundled:social/voice.mp3".to_string(), None),
            ]
        );
    }
}
