//! The MP4 plays in a real browser: headless Chromium (Debian's `chromium`) loads a page from a
//! tiny server on 127.0.0.1, decodes a samvideo output in a `<video>` element, seeks to two
//! times, draws each frame to a canvas and reports size, duration and the centre pixel back to
//! the server. The page holds its `load` event on `/wait` until it has reported, so Chromium's
//! `--dump-dom` run ends as soon as the answer is in.
//!
//! The video is handed to the element as a Blob: a blob is seekable without HTTP Range support,
//! which this test server does not implement (the real service does; see `samvideo-http`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use crate::support::*;
use samvideo_core::request::Endpoint;
use serde_json::json;

const PAGE: &str = r#"<!doctype html><title>samvideo playback</title>
<video id=v muted playsinline preload=auto></video><canvas id=c></canvas><img src="/wait">
<script>
const v = document.getElementById('v');
const out = [];
const report = (s) => fetch('/result?' + encodeURIComponent(s));
fetch('/video.mp4').then(r => r.blob()).then(b => { v.src = URL.createObjectURL(b); });
v.addEventListener('error', () => report('error ' + (v.error && v.error.code) + ' ' + (v.error && v.error.message)));
v.addEventListener('loadeddata', () => { out.push(`${v.videoWidth}x${v.videoHeight} d=${v.duration.toFixed(2)}`); v.currentTime = 0.3; });
// 'seeked' can fire before the compositor has the new frame on a loaded machine: draw 300 ms later.
v.addEventListener('seeked', () => setTimeout(() => {
  const c = document.getElementById('c');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const p = g.getImageData(v.videoWidth >> 1, v.videoHeight >> 1, 1, 1).data;
  out.push(`t=${v.currentTime.toFixed(2)} rgb=${p[0]},${p[1]},${p[2]}`);
  if (out.length == 2) { v.currentTime = 1.5; } else { report(out.join(' ')); }
}, 300));
</script>"#;

/// Serves the page and the video; the page's report arrives on the returned channel.
fn serve(video: Vec<u8>) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel::<String>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = std::sync::Arc::new(std::sync::Mutex::new(done_rx));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (video, tx, done_tx, done_rx) = (video.clone(), tx.clone(), done_tx.clone(), done_rx.clone());
            std::thread::spawn(move || {
                let Ok(read_half) = stream.try_clone() else { return };
                let mut reader = BufReader::new(read_half);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, ctype, body): (&str, &str, Vec<u8>) = if path == "/video.mp4" {
                    ("200 OK", "video/mp4", video)
                } else if let Some(q) = path.strip_prefix("/result?") {
                    let _ = tx.send(percent_decode(q));
                    let _ = done_tx.send(());
                    ("204 No Content", "text/plain", Vec::new())
                } else if path == "/wait" {
                    let _ = done_rx.lock().map(|rx| rx.recv_timeout(Duration::from_secs(60)));
                    ("204 No Content", "text/plain", Vec::new())
                } else {
                    ("200 OK", "text/html", PAGE.as_bytes().to_vec())
                };
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            });
        }
    });
    (port, rx)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn rgb_after(report: &str, key: &str) -> [i32; 3] {
    let s = report.split(key).nth(1).and_then(|r| r.split_whitespace().next()).and_then(|r| r.strip_prefix("rgb="));
    let v: Vec<i32> = s.unwrap_or("").split(',').filter_map(|x| x.parse().ok()).collect();
    assert_eq!(v.len(), 3, "no pixel for {key} in {report:?}");
    [v[0], v[1], v[2]]
}

#[test]
fn output_decodes_and_seeks_in_headless_chromium() {
    play_and_seek("av1", false);
}

/// The H.264 + AAC file plays and seeks too (Debian's Chromium decodes H.264).
#[test]
fn h264_output_decodes_and_seeks_in_headless_chromium() {
    play_and_seek("h264", false);
}

/// A moving video's AV1 comes from SVT-AV1 (`encode/svt_av1.rs`): it plays and seeks as well.
#[test]
fn moving_av1_output_from_svt_av1_decodes_and_seeks_in_headless_chromium() {
    play_and_seek("av1", true);
}

fn play_and_seek(codec: &str, zoom: bool) {
    let dir = tempfile::tempdir().unwrap();
    solid_png(dir.path(), "a.png", 64, 36, [200, 40, 40, 255]);
    solid_png(dir.path(), "b.png", 64, 36, [40, 40, 200, 255]);
    let spec = json!({"media_list": [{"type": "image", "url": "a.png", "duration": 1}, {"type": "image", "url": "b.png", "duration": 1}],
        "settings": {"output_quality": "low", "fps": 15, "transition_type": "fade", "transition_duration": 0.4,
            "output_codec": codec, "zoom_effect": zoom}});
    let out = dir.path().join("play.mp4");
    render(dir.path(), Endpoint::SimpleVideo, &spec, &out, Format::Mp4);
    let (port, reports) = serve(std::fs::read(&out).unwrap());
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium runs (apt-get install chromium)");
    let report = reports.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let report = report.expect("the page reported within 60 s");
    // Two 1 s stills overlapped by a 0.4 s fade last 1.6 s (docs/timing.md).
    assert!(report.starts_with("854x480 d=1.60"), "{codec}: browser saw: {report:?}");
    let red = rgb_after(&report, "t=0.30");
    let blue = rgb_after(&report, "t=1.50");
    assert!(red[0] > 150 && red[2] < 90, "frame at 0.3 s should be the red still: {red:?} ({report})");
    assert!(blue[2] > 150 && blue[0] < 90, "frame at 1.5 s should be the blue still: {blue:?} ({report})");
}
