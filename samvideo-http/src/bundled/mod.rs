//! The built-in media: the small files of the runnable examples (`examples/social`,
//! `examples/slideshow`), compiled into the binary and named by `bundled:` URLs
//! (`bundled:social/portrait-1.jpg`), and those examples' specs with their relative media
//! names rewritten to such URLs, for the playground (`routes/playground`).
//!
//! Enter: nothing at run time: [`FILES`] and [`examples::EXAMPLES`] are `include_bytes!`/`include_str!`
//! of `examples/`, the one copy of both. Leave: bytes through [`source::BundledSource`] (the
//! media source every node renders through answers `bundled:` URLs with them and hands every
//! other URL to the SSRF-safe fetcher, so the server never fetches itself over loopback) and
//! the rewritten specs through [`examples::Example::spec`].

pub mod examples;
pub mod source;

/// The URL scheme of the built-in media, with its colon: `bundled:EXAMPLE/FILE`.
pub const SCHEME: &str = "bundled:";

/// One built-in file, `bundled:{example}/{name}`.
#[derive(Debug)]
pub struct File {
    /// The example's folder under `examples/` (`social`).
    pub example: &'static str,
    /// The file's name in it, as the example's spec names it (`portrait-1.jpg`).
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

impl File {
    /// Its name after the scheme: `social/portrait-1.jpg`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.example, self.name)
    }

    /// Its URL: `bundled:social/portrait-1.jpg`.
    pub fn url(&self) -> String {
        format!("{SCHEME}{}", self.path())
    }
}

macro_rules! bundled {
    ($example:literal, $name:literal) => {
        File {
            example: $example,
            name: $name,
            bytes: include_bytes!(concat!("../../../examples/", $example, "/", $name)),
        }
    };
}

/// Every built-in file: the media of `examples/social` and `examples/slideshow` (a test
/// checks none of their files is left out).
pub const FILES: &[File] = &[
    bundled!("slideshow", "slide-Ember.jpg"),
    bundled!("slideshow", "slide-Forest.jpg"),
    bundled!("slideshow", "slide-Ocean.jpg"),
    bundled!("social", "music.ogg"),
    bundled!("social", "portrait-1.jpg"),
    bundled!("social", "portrait-2.jpg"),
    bundled!("social", "voice.mp3"),
];

/// The built-in file a `bundled:` URL names (`social/portrait-1.jpg`, after the scheme).
pub fn file(path: &str) -> Option<&'static File> {
    FILES.iter().find(|f| path.strip_prefix(f.example).and_then(|rest| rest.strip_prefix('/')) == Some(f.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every media file of the two examples is built in, and nothing else.
    #[test]
    fn every_example_media_file_is_built_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut on_disk = Vec::new();
        for example in ["slideshow", "social"] {
            for entry in std::fs::read_dir(root.join(example)).expect("examples dir") {
                let name = entry.expect("entry").file_name().into_string().expect("utf-8 name");
                if name != "spec.json" {
                    on_disk.push(format!("{example}/{name}"));
                }
            }
        }
        on_disk.sort();
        let built_in: Vec<String> = FILES.iter().map(File::path).collect();
        assert_eq!(built_in, on_disk);
        for f in FILES {
            let disk = std::fs::read(root.join(f.example).join(f.name)).expect("read");
            assert_eq!(f.bytes, disk.as_slice(), "{}", f.path());
        }
    }

    /// docs/http-api.md lists every built-in URL.
    #[test]
    fn the_docs_list_every_built_in_url() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/http-api.md")).expect("docs");
        for f in FILES {
            assert!(docs.contains(&format!("`{}`", f.url())), "docs/http-api.md lists {}", f.url());
        }
    }

    #[test]
    fn names_resolve_exactly() {
        assert_eq!(file("social/voice.mp3").map(File::url).as_deref(), Some("bundled:social/voice.mp3"));
        for missing in ["social/", "voice.mp3", "social/voice.mp3/", "/social/voice.mp3", "SOCIAL/voice.mp3", ""] {
            assert!(file(missing).is_none(), "{missing:?}");
        }
    }
}
