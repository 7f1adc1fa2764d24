//! `samvideo validate --endpoint E FILE` as a user runs it: the real binary, on the example
//! files and on stdin. A valid body exits 0 and prints nothing on stdout; a rejected one
//! prints exactly the JSON body the HTTP API answers (one line) and exits 1. Also
//! `samvideo render --codec`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn examples(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/requests").join(sub)
}

fn samvideo(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_samvideo"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn samvideo");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(bytes) = stdin {
            pipe.write_all(bytes).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait samvideo")
}

/// `samvideo validate --endpoint ENDPOINT FILE`.
fn validate(endpoint: &str, file: &Path) -> Output {
    samvideo(&["validate", "--endpoint", endpoint, file.to_str().expect("utf-8 path")], None)
}

/// `(file name, endpoint)` of the `*.json` bodies in `sub`.
fn files(sub: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(examples(sub))
        .expect("examples/requests")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .map(|n| {
            let ep = n.split('.').next().unwrap_or_default().to_string();
            (n, ep)
        })
        .collect();
    out.sort();
    out
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(examples("invalid/expected.json")).expect("expected.json")).expect("JSON")
}

#[test]
fn valid_files_exit_0_with_nothing_on_stdout() {
    let all = files("valid");
    assert!(!all.is_empty());
    for (name, ep) in all {
        let out = validate(&ep, &examples("valid").join(&name));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(out.stdout.is_empty(), "{name}");
    }
}

#[test]
fn invalid_files_print_exactly_the_api_body_and_exit_1() {
    let want = expected();
    let all = files("invalid");
    assert!(all.len() >= 15);
    for (name, ep) in all {
        let out = validate(&ep, &examples("invalid").join(&name));
        assert_eq!(out.status.code(), Some(1), "{name}");
        let body = serde_json::to_string(&want[&name]).expect("serialize");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{body}\n"), "{name}");
    }
}

#[test]
fn stdin_dash_reads_the_body() {
    let ok = std::fs::read(examples("valid/loop-video.json")).expect("example");
    let out = samvideo(&["validate", "--endpoint", "loop-video", "-"], Some(&ok));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    let out = samvideo(&["validate", "--endpoint", "simple-video", "-"], Some(br#"{"media_list": []}"#));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"success\":false,\"message\":\"No media items provided\"}\n");

    let out = samvideo(&["validate", "--endpoint", "advanced-video", "-"], Some(b""));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"success\":false,\"message\":\"Configuration validation failed: Invalid JSON data\",\"error_code\":\"VALIDATION_ERROR\"}\n"
    );

    let out = samvideo(
        &["validate", "--endpoint", "simple-video", "-"],
        Some(br#"{"media_list":[{"type":"image","url":"https://a/b.jpg"}],"settings":{"fps":"30"}}"#),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"success\":false,\"message\":\"fps must be a number\"}\n");
}

#[test]
fn usage_errors_are_not_validation_answers() {
    let out = validate("tiktok-video", &examples("valid/simple-video.root.json"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown endpoint"));

    let out = validate("mix-video", Path::new("/nonexistent/body.json"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/body.json"));
}

/// `samvideo --help` and `samvideo serve --help` speak to users: no notes about the code.
#[test]
fn help_texts_carry_no_implementation_notes() {
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let out = samvideo(args, None);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Run the HTTP API") || args.len() == 2, "{text}");
        for note in ["Boxed", "clippy", "size of the other"] {
            assert!(!text.contains(note), "{args:?} shows {note:?}:\n{text}");
        }
    }
}

/// `samvideo render --codec h264` on the bundled 9:16 example: an H.264 + AAC file whatever
/// the spec says, and the poster and caption sidecars (`--subtitles`, `--subtitles-srt`)
/// beside it.
#[test]
fn render_codec_flag_writes_h264_and_aac() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("social.mp4");
    let poster = dir.path().join("social.jpg");
    let (vtt, srt) = (dir.path().join("social.vtt"), dir.path().join("social.srt"));
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/social/spec.json");
    let args = [
        "render",
        spec.to_str().expect("utf-8"),
        "--endpoint",
        "mix-video",
        "--codec",
        "h264",
        "-q",
        "-o",
        out.to_str().expect("utf-8"),
        "--thumbnail",
        poster.to_str().expect("utf-8"),
        "--subtitles",
        vtt.to_str().expect("utf-8"),
        "--subtitles-srt",
        srt.to_str().expect("utf-8"),
    ];
    let run = samvideo(&args, None);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(samvideo_test_support::ffprobe_csv(&out, "v:0", "stream=codec_name"), "h264");
    assert_eq!(samvideo_test_support::ffprobe_csv(&out, "a:0", "stream=codec_name"), "aac");
    assert!(poster.exists());
    // The example's one `highlight` page (its four words, a 0.2 s pause inside), read back by
    // ffprobe from both files.
    let cues = samvideo_test_support::ffprobe_csv(&vtt, "s:0", "packet=pts_time,duration_time");
    assert_eq!(cues, "0.000000,3.792000", "one cue, 0 to 3.8 s at 24 fps");
    assert_eq!(samvideo_test_support::ffprobe_csv(&srt, "s:0", "packet=pts_time,duration_time"), cues);
    assert!(std::fs::read_to_string(&vtt).expect("vtt").contains("\nJSON in video out\n"));
    let bad = samvideo(&["render", spec.to_str().expect("utf-8"), "--codec", "hevc"], None);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected one of av1, h264"));
}
