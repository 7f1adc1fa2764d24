//! `samvideo render --part ... --parts-dir DIR` (hidden; docs/scale-out.md): the two segments
//! and the audio of an 11 s spec with music made by three processes at once, then
//! `--part finalize` in a fourth, give the same sha256 as a plain `samvideo render` of the
//! spec; a finalize with a part missing exits 1 naming it.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use samvideo_test_support::{solid_png, write_wav};
use sha2::{Digest, Sha256};

fn samvideo(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_samvideo"));
    c.current_dir(dir)
        .args(["render", "spec.json", "--endpoint", "mix-video", "-q"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn parts_rendered_in_separate_processes_finalize_to_the_bytes_of_a_plain_render() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    solid_png(dir, "red.png", 320, 180, [220, 30, 30, 255]);
    solid_png(dir, "blue.png", 320, 180, [30, 30, 220, 255]);
    write_wav(dir, "music.wav", 44_100, 2, 14.0, |t, _| 0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin());
    let spec = r#"{"media_list": [{"type": "image", "url": "red.png", "duration": 6},
        {"type": "image", "url": "blue.png", "duration": 6}], "background_url": "music.wav",
        "settings": {"aspect_ratio": "16:9", "output_quality": "low", "fps": 15,
        "transition_type": "fade", "transition_duration": 1}}"#;
    std::fs::write(dir.join("spec.json"), spec).expect("spec");

    ok(samvideo(dir, &["-o", "whole.mp4"]).output().expect("plain render"));
    let parts: Vec<_> = ["segment:1", "audio", "segment:0"]
        .iter()
        .map(|part| samvideo(dir, &["--part", part, "--parts-dir", "parts"]).spawn().expect("spawn part"))
        .collect();
    for child in parts {
        ok(child.wait_with_output().expect("part"));
    }
    for name in ["segment-0.svpart", "segment-1.svpart", "audio.svpart"] {
        assert!(dir.join("parts").join(name).is_file(), "{name}");
    }
    ok(samvideo(dir, &["--part", "finalize", "--parts-dir", "parts", "-o", "split.mp4"]).output().expect("finalize"));
    assert_eq!(sha256(&dir.join("split.mp4")), sha256(&dir.join("whole.mp4")));

    std::fs::remove_file(dir.join("parts/segment-1.svpart")).expect("rm");
    let out = samvideo(dir, &["--part", "finalize", "--parts-dir", "parts", "-o", "again.mp4"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("segment 1 of 2 is missing"), "{stderr}");
    assert!(!dir.join("again.mp4").exists());
}
