//! Split rendering (`render::parts`): every part of an 11 s, two-segment video with music made
//! on its own, in reverse order, into files of a temp folder, then finalized, gives the same
//! sha256 as `render_to_file` of the same request — AV1 + Opus and H.264 + AAC — and ffprobe
//! reads the result back; a missing segment, a part of another plan or engine, a part under
//! another part's name and a truncated part are refused with a message saying which, and leave no
//! output; progress reaches 1 per part and a cancelled part leaves no file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use samvideo_core::media::local::LocalSource;
use samvideo_core::media::MediaSource;
use samvideo_core::render::parts::{finalize, render_part, PartError, PartId};
use samvideo_core::render::{plan_request, render_to_file, CancelToken, RenderError, RenderOptions};
use samvideo_core::request::{CreateRequest, Endpoint};
use samvideo_test_support::{ffprobe_csv, solid_png, write_wav};
use serde_json::json;
use sha2::{Digest, Sha256};

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Two 6 s stills with a 1 s fade (11 s, 165 frames at 15 fps: segments 0..150 and 150..165)
/// over 14 s of music at `volume`.
fn request(dir: &Path, codec: &str, volume: f64) -> CreateRequest {
    solid_png(dir, "red.png", 320, 180, [220, 30, 30, 255]);
    solid_png(dir, "blue.png", 320, 180, [30, 30, 220, 255]);
    write_wav(dir, "music.wav", 44_100, 2, 14.0, |t, _| 0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin());
    let spec = json!({"media_list": [
        {"type": "image", "url": "red.png", "duration": 6},
        {"type": "image", "url": "blue.png", "duration": 6}
    ], "background_url": "music.wav", "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15,
        "transition_type": "fade", "transition_duration": 1, "output_codec": codec, "audio_volume": volume}});
    samvideo_core::validate::parse_create(Endpoint::MixVideo, spec.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("spec rejected: {}", e.body))
}

fn source(dir: &Path) -> Arc<dyn MediaSource> {
    Arc::new(LocalSource::new(dir))
}

/// Make every part of `request` into `parts`, last first, each with its own progress.
fn render_parts(request: &CreateRequest, dir: &Path, parts: &Path) -> Vec<PartId> {
    std::fs::create_dir_all(parts).expect("parts dir");
    let plan = plan_request(request, source(dir), &RenderOptions::default()).expect("plan");
    let all = PartId::all(&plan);
    for part in all.iter().rev() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let options = RenderOptions {
            progress: Some(Arc::new(move |p| log.lock().expect("progress").push(p))),
            ..RenderOptions::default()
        };
        let summary =
            render_part(request, source(dir), *part, &parts.join(part.file_name()), &options).expect("render part");
        assert_eq!(summary.part, *part);
        let seen = seen.lock().expect("progress");
        assert_eq!(seen.last(), Some(&1.0), "{part}: progress ends at 1");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{part}: progress only grows: {seen:?}");
        if let PartId::Segment(k) = part {
            assert_eq!(summary.packets, [150, 15][*k], "one packet per frame of {part}");
        }
    }
    all
}

/// Split render then finalize vs one in-process render: the same file.
fn same_bytes_as_render_to_file(codec: &str, streams: &str) -> (tempfile::TempDir, CreateRequest) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let request = request(dir, codec, 1.0);
    let whole = dir.join("whole.mp4");
    render_to_file(&request, source(dir), &whole, &RenderOptions::default()).expect("render_to_file");
    let parts = dir.join("parts");
    let all = render_parts(&request, dir, &parts);
    assert_eq!(all, vec![PartId::Segment(0), PartId::Segment(1), PartId::Audio]);
    let split = dir.join("split.mp4");
    let summary = finalize(&request, source(dir), &parts, &split, &RenderOptions::default()).expect("finalize");
    assert_eq!(summary.frames, 165);
    assert_eq!(summary.size_bytes, std::fs::metadata(&split).expect("split").len());
    assert_eq!(sha256(&split), sha256(&whole), "{codec}: finalize writes the bytes of render_to_file");
    assert_eq!(ffprobe_csv(&split, "v:0", "stream=codec_name,width,height").trim(), streams);
    let packets = ffprobe_csv(&split, "v:0", "packet=pts_time,flags");
    assert_eq!(packets.lines().count(), 165, "every frame is in the file");
    let keys: Vec<&str> = packets.lines().filter(|l| l.contains('K')).collect();
    assert_eq!(keys.len(), 2, "a key frame where each segment starts: {keys:?}");
    let audio = if codec == "h264" { "aac" } else { "opus" };
    assert_eq!(ffprobe_csv(&split, "a:0", "stream=codec_name").trim(), audio);
    (tmp, request)
}

#[test]
fn av1_parts_finalize_to_the_bytes_of_render_to_file_and_wrong_parts_are_refused() {
    let (tmp, request) = same_bytes_as_render_to_file("av1", "av1,854,480");
    let dir = tmp.path();
    let parts = dir.join("parts");
    let out = dir.join("refused.mp4");
    let refused = |parts: &Path| -> String {
        let err = finalize(&request, source(dir), parts, &out, &RenderOptions::default()).expect_err("refused");
        assert!(!out.exists(), "a refused finalize leaves no output");
        err.to_string()
    };
    let copy = |name: &str, without: &str| -> std::path::PathBuf {
        let to = dir.join(name);
        std::fs::create_dir_all(&to).expect("dir");
        for e in std::fs::read_dir(&parts).expect("parts") {
            let e = e.expect("entry");
            if e.file_name() != without {
                std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
            }
        }
        to
    };

    let missing = copy("missing", "segment-1.svpart");
    let err = refused(&missing);
    assert!(err.starts_with("segment 1 of 2 is missing"), "{err}");

    // The same spec with quieter music is another plan: its audio part is refused.
    let other_dir = dir.join("other");
    std::fs::create_dir_all(&other_dir).expect("dir");
    let other = request_in(&other_dir, 0.5);
    let mixed = copy("mixed", "audio.svpart");
    render_part(&other, source(&other_dir), PartId::Audio, &mixed.join("audio.svpart"), &RenderOptions::default())
        .expect("other audio");
    let err = refused(&mixed);
    assert!(err.contains("the audio was made for another plan (fingerprint "), "{err}");

    // A part of another engine build (here: its header names another rav1e) is refused as such.
    let foreign = copy("foreign", "segment-0.svpart");
    let mut bytes = std::fs::read(parts.join("segment-0.svpart")).expect("read");
    let at = bytes.windows(11).position(|w| w == b"rav1e 0.8.1").expect("the engine in the header");
    bytes[at + 10] = b'9';
    std::fs::write(foreign.join("segment-0.svpart"), &bytes).expect("write");
    let err = refused(&foreign);
    assert!(err.contains("segment 0 was made by another engine (samvideo-core"), "{err}");
    assert!(err.contains("rav1e 0.8.9"), "{err}");

    let renamed = copy("renamed", "segment-1.svpart");
    std::fs::copy(parts.join("segment-0.svpart"), renamed.join("segment-1.svpart")).expect("copy");
    let err = refused(&renamed);
    assert!(err.ends_with("expected segment 1 of 2 (frames 150..165), found segment 0 of 2 (frames 0..150)"), "{err}");

    let truncated = copy("truncated", "segment-0.svpart");
    let bytes = std::fs::read(parts.join("segment-0.svpart")).expect("read");
    std::fs::write(truncated.join("segment-0.svpart"), &bytes[..bytes.len() / 2]).expect("write");
    let err = refused(&truncated);
    assert!(err.ends_with("segment-0.svpart: truncated (it ends before its end record)"), "{err}");

    let err = render_part(&request, source(dir), PartId::Segment(2), &dir.join("s2"), &RenderOptions::default())
        .expect_err("no segment 2");
    assert_eq!(err.to_string(), "segment 2 does not exist: the plan has 2 segment(s)");

    let cancel = CancelToken::new();
    cancel.cancel();
    let target = dir.join("cancelled.svpart");
    let options = RenderOptions { cancel, ..RenderOptions::default() };
    let err = render_part(&request, source(dir), PartId::Segment(0), &target, &options).expect_err("cancelled");
    assert!(matches!(err, PartError::Render(RenderError::Cancelled)), "{err}");
    assert!(!target.exists(), "a cancelled part leaves no file");
}

fn request_in(dir: &Path, volume: f64) -> CreateRequest {
    request(dir, "av1", volume)
}

#[test]
fn h264_parts_finalize_to_the_bytes_of_render_to_file() {
    same_bytes_as_render_to_file("h264", "h264,854,480");
}
