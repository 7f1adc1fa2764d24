//! Video clips as inputs (issue 5, decoding half): clips made by ffmpeg are probed and
//! decoded by `samvideo_core::media::video`, and every frame is compared with ffmpeg's own
//! decode of the same file (the independent oracle). Needs `ffmpeg` with libx264 and
//! librav1e on PATH (Debian's ffmpeg package).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use samvideo_core::media::video::{probe, VideoLimits, VideoReader};
use samvideo_core::media::MediaError;
use samvideo_test_support::{ffmpeg, h264_clip, is_child, peak_rss_kb, report, run_child, test_name};

/// These tests run one at a time: they are CPU-heavy on a shared 2-core machine.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every frame ffmpeg decodes from `path` (autorotated), as RGBA.
fn ffmpeg_frames(path: &Path, w: usize, h: usize) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-vsync", "passthrough", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let size = w * h * 4;
    assert_eq!(out.stdout.len() % size, 0, "ffmpeg output is not whole {w}x{h} frames");
    out.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let (mut se, mut n) = (0f64, 0usize);
    for (pa, pb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            let d = f64::from(pa[c]) - f64::from(pb[c]);
            se += d * d;
            n += 1;
        }
    }
    let mse = se / n as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

fn read(path: &Path) -> Arc<Vec<u8>> {
    Arc::new(std::fs::read(path).unwrap())
}

/// Decodes every frame through `frame_at` at each frame's mid time and checks it against
/// ffmpeg's frame of the same index: PSNR over 35 dB, and closer to that frame than to its
/// neighbours (catches display-order mistakes with B-frames).
fn assert_all_frames_match(path: &Path, fps: f64) -> usize {
    let bytes = read(path);
    let mut reader = VideoReader::open(bytes, &VideoLimits::default()).unwrap();
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    let reference = ffmpeg_frames(path, w, h);
    assert!(reference.len() >= 10, "only {} reference frames", reference.len());
    let mut worst = f64::MAX;
    for (i, want) in reference.iter().enumerate() {
        let got = reader.frame_at((i as f64 + 0.5) / fps).unwrap().to_vec();
        assert_eq!(got.len(), w * h * 4);
        let p = psnr(&got, want);
        worst = worst.min(p);
        assert!(p > 35.0, "{}: frame {i}: PSNR {p:.1} dB vs ffmpeg", path.display());
        for j in [i.wrapping_sub(1), i + 1] {
            if let Some(other) = reference.get(j) {
                let q = psnr(&got, other);
                assert!(q < p, "frame {i} looks more like ffmpeg frame {j} ({q:.1} >= {p:.1} dB)");
            }
        }
    }
    eprintln!("{}: {} frames, worst PSNR {worst:.1} dB", path.display(), reference.len());
    reference.len()
}

struct Clips {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Clips {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        Clips { _dir: dir, dir: path }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
    /// 640x360 30 fps x264 High with 3 B-frames and a 1 kHz AAC tone, 3 s.
    fn h264_with_audio(&self) -> PathBuf {
        h264_clip(&self.path("in.mp4"), "640x360", 30, 3.0, 1000)
    }
}

#[test]
fn h264_with_b_frames_probes_and_decodes_like_ffmpeg() {
    let _g = serial();
    let clips = Clips::new();
    let path = clips.h264_with_audio();
    let info = probe(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!((info.width, info.height, info.rotation), (640, 360, 0));
    assert_eq!(info.codec, "h264");
    assert!(info.has_audio);
    assert!((info.fps - 30.0).abs() < 0.01, "fps {}", info.fps);
    assert!((info.duration - 3.0).abs() < 0.05, "duration {}", info.duration);
    let n = assert_all_frames_match(&path, 30.0);
    assert_eq!(n, 90);
}

#[test]
fn frame_at_holds_first_and_last_frames_and_restarts_on_loop() {
    let _g = serial();
    let clips = Clips::new();
    let path = clips.h264_with_audio();
    let reference = ffmpeg_frames(&path, 640, 360);
    let mut reader = VideoReader::open(read(&path), &VideoLimits::default()).unwrap();
    // Before the start: the first frame; past the end: the last frame.
    assert!(psnr(reader.frame_at(-1.0).unwrap(), &reference[0]) > 35.0);
    assert!(psnr(reader.frame_at(100.0).unwrap(), &reference[89]) > 35.0);
    // Going back (a loop restart) decodes from the start again.
    assert!(psnr(reader.frame_at(0.5).unwrap(), &reference[15]) > 35.0);
    // Same time twice is the same frame; exact frame times pick that frame.
    assert!(psnr(reader.frame_at(0.5).unwrap(), &reference[15]) > 35.0);
    assert!(psnr(reader.frame_at(2.0).unwrap(), &reference[60]) > 35.0);
    assert!(reader.frame_at(f64::NAN).is_err());
}

#[test]
fn av1_probes_and_decodes_like_ffmpeg() {
    let _g = serial();
    let clips = Clips::new();
    let path = clips.path("av1.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=24",
        "-t",
        "1.5",
        "-c:v",
        "librav1e",
        "-speed",
        "10",
        "-pix_fmt",
        "yuv420p",
        &clips.s("av1.mp4"),
    ]);
    let info = probe(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!((info.width, info.height, info.codec.as_str()), (320, 240, "av1"));
    assert!(!info.has_audio);
    assert!((info.fps - 24.0).abs() < 0.01, "fps {}", info.fps);
    assert!((info.duration - 1.5).abs() < 0.05, "duration {}", info.duration);
    assert_eq!(assert_all_frames_match(&path, 24.0), 36);
}

#[test]
fn bt709_tagged_h264_uses_the_bt709_matrix() {
    let _g = serial();
    let clips = Clips::new();
    let path = clips.path("709.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-t",
        "0.6",
        "-vf",
        "scale=out_color_matrix=bt709",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        &clips.s("709.mp4"),
    ]);
    assert_eq!(assert_all_frames_match(&path, 25.0), 15);
}

#[test]
fn rotated_clip_swaps_size_and_matches_ffmpeg_autorotate() {
    let _g = serial();
    let clips = Clips::new();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x176:rate=25",
        "-t",
        "0.6",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        &clips.s("upright.mp4"),
    ]);
    // ffmpeg 5.1 writes the `rotate` tag into the track matrix only on stream copy. Its tag
    // is counter-clockwise (ffprobe: "displaymatrix: rotation of 90.00 degrees"); phones
    // write the clockwise matrix that `rotate=270` gives here. `VideoInfo::rotation` is the
    // clockwise turn applied for display.
    for (tag, clockwise) in [("270", 90), ("90", 270), ("180", 180)] {
        let name = format!("rot{tag}.mp4");
        let path = clips.path(&name);
        ffmpeg(&[
            "-i",
            &clips.s("upright.mp4"),
            "-c",
            "copy",
            "-metadata:s:v:0",
            &format!("rotate={tag}"),
            &clips.s(&name),
        ]);
        let info = probe(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(info.rotation, clockwise, "rotate={tag}");
        let expect = if clockwise == 180 { (320, 176) } else { (176, 320) };
        assert_eq!((info.width, info.height), expect);
        assert_eq!(assert_all_frames_match(&path, 25.0), 15);
    }
}

#[test]
fn unsupported_codecs_and_bad_files_fail_clearly() {
    let _g = serial();
    let clips = Clips::new();
    let cases = [("mpeg4", "mp4"), ("mpeg2video", "mp4"), ("mpeg4", "mov")];
    for (codec, ext) in cases {
        let name = format!("{codec}.{ext}");
        ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "0.5", "-c:v", codec, &clips.s(&name)]);
        let bytes = read(&clips.path(&name));
        let want = MediaError::Decode(format!("unsupported video codec {codec} (supported: h264, av1)"));
        assert_eq!(probe(&bytes).unwrap_err(), want, "{name}");
        assert_eq!(VideoReader::open(bytes, &VideoLimits::default()).unwrap_err(), want);
    }

    // Audio only: no video track.
    ffmpeg(&["-f", "lavfi", "-i", "sine", "-t", "0.5", "-c:a", "aac", &clips.s("a.m4a")]);
    let err = probe(&std::fs::read(clips.path("a.m4a")).unwrap()).unwrap_err().to_string();
    assert!(err.contains("no video track"), "{err}");

    // Not MP4 at all.
    let not_mp4 = MediaError::Decode("not a supported video file (expected MP4/MOV)".into());
    assert_eq!(probe(b"GIF89a this is a gif, not a video").unwrap_err(), not_mp4);
    assert_eq!(probe(&[]).unwrap_err(), not_mp4);
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "0.5", &clips.s("x.webm")]);
    assert_eq!(probe(&std::fs::read(clips.path("x.webm")).unwrap()).unwrap_err(), not_mp4);

    // Truncated: moov at the end is cut off; with faststart the sample data is cut off.
    let full = std::fs::read(clips.h264_with_audio()).unwrap();
    let err = probe(&full[..full.len() / 2]).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    ffmpeg(&["-i", &clips.s("in.mp4"), "-c", "copy", "-movflags", "+faststart", &clips.s("fast.mp4")]);
    let fast = std::fs::read(clips.path("fast.mp4")).unwrap();
    let err = probe(&fast[..fast.len() / 2]).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");

    // Corrupted headers never panic: flip bytes all over the moov box.
    let moov = fast.windows(4).position(|w| w == b"moov").unwrap();
    let mut state = 0x2545_f491_u32;
    for _ in 0..400 {
        let mut bad = fast.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let at = moov + (state as usize % 3000);
            bad[at] = bad[at].wrapping_add((state >> 8) as u8 | 1);
        }
        let _ = probe(&bad);
    }
}

#[test]
fn limits_bound_size_and_duration() {
    let _g = serial();
    let clips = Clips::new();
    let bytes = read(&clips.h264_with_audio());
    let small = VideoLimits { max_width: 320, max_height: 320, max_duration: 3600.0 };
    let err = VideoReader::open(bytes.clone(), &small).unwrap_err();
    assert_eq!(err, MediaError::Limit("video is 640x360 (limit 320x320)".into()));
    let short = VideoLimits { max_duration: 1.0, ..VideoLimits::default() };
    let err = VideoReader::open(bytes, &short).unwrap_err();
    assert!(matches!(err, MediaError::Limit(ref m) if m.contains("limit 1 s")), "{err}");
}

/// The clip's AAC track is reachable by symphonia even though the video track comes first:
/// `default_track(TrackType::Audio)` picks the sound track (what `audio::decode_audio` uses).
#[test]
fn symphonia_finds_the_aac_track_behind_the_video_track() {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let _g = serial();
    let clips = Clips::new();
    let bytes = std::fs::read(clips.h264_with_audio()).unwrap();
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(&Hint::new(), mss, FormatOptions::default(), MetadataOptions::default())
        .unwrap();
    let track = format.default_track(TrackType::Audio).expect("an audio track").clone();
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).unwrap().clone();
    let mut decoder =
        symphonia::default::get_codecs().make_audio_decoder(&params, &AudioDecoderOptions::default()).unwrap();
    let (mut samples, mut interleaved, mut rate) = (Vec::new(), Vec::new(), 0);
    while let Ok(Some(packet)) = format.next_packet() {
        if packet.track_id != track.id {
            continue;
        }
        let buf = decoder.decode(&packet).unwrap();
        rate = buf.spec().rate();
        let channels = buf.spec().channels().count();
        buf.copy_to_vec_interleaved::<f32>(&mut interleaved);
        samples.extend(interleaved.iter().step_by(channels).copied());
    }
    let secs = samples.len() as f64 / f64::from(rate);
    assert!((secs - 3.0).abs() < 0.1, "{secs} s of audio");
    // 1 kHz: about 2000 zero crossings per second in the middle second.
    let mid = &samples[rate as usize..2 * rate as usize];
    let crossings = mid.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
    assert!((1990..=2010).contains(&crossings), "{crossings} zero crossings");
}

/// A long 1080p clip decodes with flat memory: the reader keeps one frame, not the clip.
/// Also reports the decode speed (frame_at at every source frame, RGBA conversion included).
/// The decode runs in a child process ([`long_1080p_decode_child`]): the peak RSS compared is
/// that process's alone, not also the other tests'.
#[test]
fn long_1080p_clip_decodes_with_flat_memory() {
    let _g = serial();
    let clips = Clips::new();
    // 60 s at 10 fps keeps the encode and decode inside the test budget.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=1920x1080:rate=10",
        "-t",
        "60",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        &clips.s("long.mp4"),
    ]);
    let run = run_child(&test_name!(long_1080p_decode_child), &[("SAMVIDEO_CLIP", &clips.s("long.mp4"))]);
    let growth_mb = run.field("hwm_end_kb").saturating_sub(run.field("hwm_10s_kb")) / 1024;
    eprintln!("1080p: peak RSS growth after 10 s: {growth_mb} MB");
    // Holding every frame would add 8 MB per frame (4 GB for the clip).
    assert!(growth_mb < 100, "peak RSS grew {growth_mb} MB while decoding");
}

/// Child half of [`long_1080p_clip_decodes_with_flat_memory`]: decodes every frame of the
/// clip in `SAMVIDEO_CLIP` and reports the peak RSS after 10 s and at the end.
#[test]
#[ignore = "run by long_1080p_clip_decodes_with_flat_memory in a child process"]
fn long_1080p_decode_child() {
    if !is_child() {
        return;
    }
    let path = PathBuf::from(std::env::var_os("SAMVIDEO_CLIP").expect("SAMVIDEO_CLIP"));
    let mut reader = VideoReader::open(read(&path), &VideoLimits::default()).unwrap();
    assert_eq!((reader.info().width, reader.info().height), (1920, 1080));
    assert!((reader.info().duration - 60.0).abs() < 0.1);
    let start = Instant::now();
    let mut hwm_after_10s = 0;
    for i in 0..600 {
        let frame = reader.frame_at(f64::from(i) / 10.0).unwrap();
        assert_eq!(frame.len(), 1920 * 1080 * 4);
        if i == 100 {
            hwm_after_10s = peak_rss_kb();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!("1080p: 600 frames in {secs:.2} s = {:.0} fps", 600.0 / secs);
    report(&[("hwm_10s_kb", hwm_after_10s), ("hwm_end_kb", peak_rss_kb())]);
}
