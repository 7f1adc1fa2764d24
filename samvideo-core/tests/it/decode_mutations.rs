//! The media decoders on damaged input, in every CI run: valid small files of each supported
//! format (made here or by ffmpeg) are bit-flipped, truncated, spliced and overwritten with
//! a fixed-seed generator, and every variant goes through the same entry points the renderer
//! uses. Each must answer `Ok` or a `MediaError`: a panic (or a crash in a C decoder) fails
//! the test. The cargo-fuzz targets in `fuzz/` explore the same paths without a time bound.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use samvideo_core::audio::decode_audio;
use samvideo_core::compose::text::{text_layers_in, Font};
use samvideo_core::media::image::decode_image;
use samvideo_core::media::video::{probe_with_limits, VideoLimits, VideoReader};
use samvideo_core::subtitles::{parse, SubtitleFormat};
use samvideo_test_support::{ffmpeg_file, gradient_image};

/// xorshift64*: a deterministic stream, so a failure reproduces from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One damaged copy of `input`: flips, truncation, an overwritten run, a duplicated slice,
/// or a run of 0xFF (large sizes in headers).
fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(5) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(out.len());
                    out[i] ^= 1 << rng.below(8);
                }
            }
            1 => out.truncate(at),
            2 => {
                let n = (1 + rng.below(16)).min(out.len() - at);
                for b in &mut out[at..at + n] {
                    *b = rng.next() as u8;
                }
            }
            3 => {
                let n = (1 + rng.below(64)).min(out.len() - at);
                let piece = out[at..at + n].to_vec();
                let to = rng.below(out.len());
                out.splice(to..to, piece);
            }
            _ => {
                let n = (1 + rng.below(4)).min(out.len() - at);
                out[at..at + n].fill(0xFF);
            }
        }
    }
    out
}

/// Run `decode` on `cases` mutations of `input`; report the first case that panics.
fn survive(name: &str, input: &[u8], cases: u32, decode: impl Fn(&[u8])) {
    assert!(!input.is_empty(), "{name}: empty seed");
    decode(input);
    let mut rng = Rng(0x5A11_71DE_0000_0001 ^ name.len() as u64);
    for case in 0..cases {
        let damaged = mutate(input, &mut rng);
        let result = catch_unwind(AssertUnwindSafe(|| decode(&damaged)));
        assert!(result.is_ok(), "{name}: mutation case {case} ({} bytes) panicked", damaged.len());
    }
}

#[test]
fn image_decoder_survives_damaged_files() {
    for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg, image::ImageFormat::Gif, image::ImageFormat::WebP]
    {
        let seed = gradient_image(format);
        survive(&format!("{format:?}"), &seed, 400, |b| {
            if let Ok(img) = decode_image(b, 4_000_000) {
                assert_eq!(img.data.len(), img.width as usize * img.height as usize * 4);
            }
        });
    }
}

#[test]
fn audio_decoder_survives_damaged_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let tone = ["-f", "lavfi", "-i", "sine=f=440:d=0.3:sample_rate=44100"];
    let files = [
        ("a.wav", vec!["-c:a", "pcm_s16le"]),
        ("a.mp3", vec!["-c:a", "libmp3lame", "-b:a", "64k"]),
        ("a.m4a", vec!["-c:a", "aac", "-b:a", "64k"]),
        ("a.flac", vec!["-c:a", "flac"]),
        ("a.ogg", vec!["-c:a", "libvorbis"]),
    ];
    for (name, codec) in files {
        let args: Vec<&str> = tone.iter().copied().chain(codec.iter().copied()).collect();
        let seed = ffmpeg_file(dir.path(), name, &args);
        let ext = name.rsplit('.').next();
        survive(name, &seed, 150, |b| {
            if let Ok(pcm) = decode_audio(b, ext) {
                assert!(pcm.duration_secs().is_finite());
            }
        });
    }
}

#[test]
fn video_demuxers_and_decoders_survive_damaged_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = ["-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=0.5", "-pix_fmt", "yuv420p"];
    let files = [
        ("h264.mp4", vec!["-c:v", "libx264", "-profile:v", "high", "-bf", "2"]),
        ("av1.mp4", vec!["-c:v", "librav1e", "-speed", "10"]),
    ];
    let limits = VideoLimits { max_width: 1920, max_height: 1920, max_duration: 60.0 };
    for (name, codec) in files {
        let args: Vec<&str> = src.iter().copied().chain(codec.iter().copied()).collect();
        let seed = ffmpeg_file(dir.path(), name, &args);
        survive(name, &seed, 150, |b| {
            let Ok(info) = probe_with_limits(b, &limits) else { return };
            let Ok(mut reader) = VideoReader::open(Arc::new(b.to_vec()), &limits) else { return };
            for t in [0.0, 0.35, 0.1] {
                if let Ok(frame) = reader.frame_at(t) {
                    assert_eq!(frame.len(), info.width as usize * info.height as usize * 4);
                }
            }
        });
    }
}

/// The checked-in fuzz corpus seeds (`fuzz/seeds/<target>/`), past findings among them:
/// each file and 100 damaged copies of it through the target's entry point.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).expect("read seed")))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{}: no seeds", dir.display());
    out
}

#[test]
fn fuzz_seeds_and_past_findings_survive() {
    let limits = VideoLimits { max_width: 1920, max_height: 1920, max_duration: 60.0 };
    for (name, bytes) in seeds("fuzz_video_decode") {
        survive(&name, &bytes, 100, |b| {
            let Ok(info) = probe_with_limits(b, &limits) else { return };
            let Ok(mut reader) = VideoReader::open(Arc::new(b.to_vec()), &limits) else { return };
            for t in [0.0, 0.5, 0.1] {
                if let Ok(frame) = reader.frame_at(t) {
                    assert_eq!(frame.len(), info.width as usize * info.height as usize * 4);
                }
            }
        });
    }
    // The first byte picks the extension hint, as in the fuzz target.
    let hints = [None, Some("mp3"), Some("m4a"), Some("wav"), Some("flac"), Some("ogg")];
    for (name, bytes) in seeds("fuzz_audio_decode") {
        survive(&name, &bytes, 100, |b| {
            let Some((h, body)) = b.split_first() else { return };
            if let Ok(pcm) = decode_audio(body, hints[*h as usize % hints.len()]) {
                assert!(pcm.duration_secs().is_finite());
            }
        });
    }
    for (name, bytes) in seeds("fuzz_image_decode") {
        survive(&name, &bytes, 100, |b| {
            if let Ok(img) = decode_image(b, 4_000_000) {
                assert_eq!(img.data.len(), img.width as usize * img.height as usize * 4);
            }
        });
    }
    // Subtitle files: the first byte picks SRT or WebVTT, as in the fuzz target.
    for (name, bytes) in seeds("fuzz_subtitles") {
        survive(&name, &bytes, 100, |b| {
            let Some((pick, rest)) = b.split_first() else { return };
            let format = if pick & 1 == 0 { SubtitleFormat::Srt } else { SubtitleFormat::WebVtt };
            if let Ok(cues) = parse(&String::from_utf8_lossy(rest), format) {
                assert!(cues.iter().all(|c| c.start < c.end && !c.parts.is_empty()));
            }
        });
    }
    // Caption fonts (`font_url`): checked, then text set in them.
    for (name, bytes) in seeds("fuzz_font") {
        survive(&name, &bytes, 100, |b| {
            let Ok(font) = Font::from_bytes(b) else { return };
            for text in ["Hamburgefontsiv", "مرحبا", "日本語"] {
                let layers = text_layers_in(&font, text, 24.0, 200, &[[255; 4]], ([0, 0, 0, 255], 2.0));
                assert!(layers.iter().all(|l| l.width >= 1 && l.height >= 1));
            }
        });
    }
}

#[test]
fn a_table_count_past_its_box_is_refused_before_allocating() {
    // 2 891 bytes whose stsc box declares 2 842 980 207 entries: the box decoder reserved
    // 34 GB for them and the process aborted. Now it is a short, stable message.
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/fuzz_video_decode/stsc-entry-count-34GB.mp4"),
    )
    .expect("finding");
    let err = probe_with_limits(&bytes, &VideoLimits::default()).expect_err("refused");
    assert_eq!(err.to_string(), "malformed MP4: stsc box declares 2842980207 entries in 28 bytes");
}

#[test]
fn ten_bit_av1_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tmp");
    let bytes = ffmpeg_file(
        dir.path(),
        "av1-10bit.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=64x48:r=10:d=0.3",
            "-pix_fmt",
            "yuv420p10le",
            "-c:v",
            "librav1e",
            "-speed",
            "10",
        ],
    );
    let limits = VideoLimits::default();
    let result = VideoReader::open(Arc::new(bytes), &limits).and_then(|mut r| r.frame_at(0.0).map(|f| f.len()));
    let err = result.expect_err("10-bit AV1 is not decoded");
    assert!(err.to_string().contains("10/12-bit") || err.to_string().contains("10-bit"), "{err}");
}

#[test]
fn an_av1_stream_that_deadlocked_rav1d_frame_threads_ends_in_time() {
    // A 2 393-byte mutation of an AV1 MP4: with two frame contexts rav1d's worker threads
    // never finished a frame and `dav1d_get_picture` waited forever (fuzz_video_decode).
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/fuzz_video_decode/rav1d-frame-thread-deadlock.mp4");
    let bytes = std::fs::read(path).expect("finding");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let limits = VideoLimits { max_width: 1920, max_height: 1920, max_duration: 60.0 };
        let frames = VideoReader::open(Arc::new(bytes), &limits)
            .map(|mut r| [0.0, 0.5, 0.1].iter().filter(|&&t| r.frame_at(t).is_ok()).count());
        let _ = tx.send(frames.is_ok());
    });
    let answered = rx.recv_timeout(std::time::Duration::from_secs(30));
    assert!(answered.is_ok(), "decoding hung for 30 s");
}
