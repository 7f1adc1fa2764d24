//! rav1e levers on slideshow content at the 720p settings samvideo uses (speed 10,
//! quantizer 110): threads, tiles, lookahead depth and low-latency mode, each measured for
//! wall time, output bytes and peak memory.
//!
//! Not a criterion bench: peak memory needs a fresh process per configuration, so the bench
//! re-runs itself once per configuration (`--child N`) and reads the child's `VmHWM` (peak
//! RSS) from `/proc/self/status`. The clip is what a slideshow feeds the encoder: three
//! stills held 1 s each (the same `Arc` frame repeated, as `Av1Encoder::repeat` does) joined
//! by two 0.5 s cross-fades, 120 frames.
//!
//! Run: `cargo bench -p samvideo-core --bench encode_levers` (`-- --frames 60` for a shorter
//! clip). Results and what they mean for a whole render: `docs/performance.md`.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use rav1e::prelude::{ChromaSampling, Config, EncoderConfig, EncoderStatus, PixelRange, Rational, SpeedSettings};
use samvideo_core::compose::transition::fade;
use samvideo_core::frame::yuv::rgba_to_yuv420;
use samvideo_core::frame::{Rgba, Yuv420};

const W: u32 = 1280;
const H: u32 = 720;

/// One encoder configuration under test.
struct Lever {
    name: &'static str,
    threads: usize,
    tiles: usize,
    lookahead: Option<usize>,
    low_latency: bool,
}

const LEVERS: [Lever; 7] = [
    Lever {
        name: "samvideo today (1 thread per segment worker, lookahead 1)",
        threads: 1,
        tiles: 0,
        lookahead: Some(1),
        low_latency: false,
    },
    Lever {
        name: "rav1e's default lookahead (10 at speed 10)",
        threads: 1,
        tiles: 0,
        lookahead: None,
        low_latency: false,
    },
    Lever { name: "lookahead 3", threads: 1, tiles: 0, lookahead: Some(3), low_latency: false },
    Lever { name: "lookahead 5", threads: 1, tiles: 0, lookahead: Some(5), low_latency: false },
    Lever {
        name: "2 threads (one encoder for the whole video)",
        threads: 2,
        tiles: 0,
        lookahead: Some(1),
        low_latency: false,
    },
    Lever { name: "2 threads, 4 tiles", threads: 2, tiles: 4, lookahead: Some(1), low_latency: false },
    Lever { name: "low latency (no frame reordering)", threads: 1, tiles: 0, lookahead: Some(1), low_latency: true },
];

/// Smooth colour field with grain, like a photo: encodable, not trivial.
fn picture(seed: u64) -> Rgba {
    let mut x = seed | 1;
    let mut img = Rgba::filled(W, H, [0, 0, 0, 255]);
    for (i, px) in img.data.chunks_exact_mut(4).enumerate() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (cx, cy) = ((i as u32 % W) as f32 / W as f32, (i as u32 / W) as f32 / H as f32);
        let grain = (x & 15) as f32;
        let s = seed as f32;
        px[0] = (128.0 + 100.0 * (6.0 * cx + s).sin() + grain) as u8;
        px[1] = (128.0 + 100.0 * (5.0 * cy - s).cos() + grain) as u8;
        px[2] = (128.0 + 90.0 * (4.0 * (cx + cy) + s).sin() + grain) as u8;
    }
    img
}

fn yuv(img: &Rgba) -> Yuv420 {
    let mut f = Yuv420::new(W, H);
    rgba_to_yuv420(img, &mut f);
    f
}

/// The clip as encoder input: `Some(frame)` for a new picture, `None` for "repeat the last".
fn clip(frames: usize) -> Vec<Option<Yuv420>> {
    let hold = frames * 30 / 120;
    let tf = frames * 15 / 120;
    let pics = [picture(1), picture(2), picture(3)];
    let mut out = Vec::new();
    for (k, p) in pics.iter().enumerate() {
        out.push(Some(yuv(p)));
        out.extend((1..hold).map(|_| None));
        if let Some(next) = pics.get(k + 1) {
            let mut canvas = p.clone();
            for i in 0..tf {
                fade(&p.data, &next.data, (i as f32 + 0.5) / tf as f32, &mut canvas.data);
                out.push(Some(yuv(&canvas)));
            }
        }
    }
    out
}

/// Encode the clip with one lever; returns (seconds, bytes).
fn encode(lever: &Lever, input: &[Option<Yuv420>]) -> (f64, usize) {
    let mut speed = SpeedSettings::from_preset(10);
    if let Some(n) = lever.lookahead {
        speed.rdo_lookahead_frames = n;
    }
    let enc = EncoderConfig {
        width: W as usize,
        height: H as usize,
        time_base: Rational::new(1, 30),
        bit_depth: 8,
        chroma_sampling: ChromaSampling::Cs420,
        pixel_range: PixelRange::Limited,
        min_key_frame_interval: 12,
        max_key_frame_interval: 300,
        quantizer: 110,
        speed_settings: speed,
        tiles: lever.tiles,
        low_latency: lever.low_latency,
        ..Default::default()
    };
    let started = Instant::now();
    let mut ctx =
        Config::new().with_encoder_config(enc).with_threads(lever.threads).new_context::<u8>().expect("valid config");
    let mut bytes = 0;
    let mut drain = |ctx: &mut rav1e::Context<u8>| loop {
        match ctx.receive_packet() {
            Ok(p) => bytes += p.data.len(),
            Err(EncoderStatus::Encoded) => continue,
            Err(_) => break,
        }
    };
    let mut last = None;
    for f in input {
        let frame = match f {
            Some(f) => {
                let mut fr = ctx.new_frame();
                fr.planes[0].copy_from_raw_u8(&f.y, W as usize, 1);
                fr.planes[1].copy_from_raw_u8(&f.u, W as usize / 2, 1);
                fr.planes[2].copy_from_raw_u8(&f.v, W as usize / 2, 1);
                // rav1e reads past the picture edge (as in `Av1Encoder::send`).
                for plane in fr.planes.iter_mut() {
                    plane.pad(W as usize, H as usize);
                }
                let fr = Arc::new(fr);
                last = Some(fr.clone());
                fr
            }
            None => last.clone().expect("a still starts the clip"),
        };
        ctx.send_frame(frame).expect("send");
        drain(&mut ctx);
    }
    ctx.flush();
    drain(&mut ctx);
    (started.elapsed().as_secs_f64(), bytes)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) this process has used: fields 14 and 15 of
/// `/proc/self/stat`, in clock ticks (100 per second on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|x| x.parse().ok()).collect();
    ticks.iter().sum::<f64>() / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)?.parse::<usize>().ok());
    let frames = value("--frames").unwrap_or(120).max(16);
    if let Some(i) = value("--child") {
        let input = clip(frames);
        let base = peak_rss_mb();
        let cpu_before = cpu_seconds();
        let (secs, bytes) = encode(&LEVERS[i], &input);
        let cpu = cpu_seconds() - cpu_before;
        println!("{secs} {bytes} {} {base} {cpu}", peak_rss_mb());
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument (criterion style) is ignored.
    let exe = std::env::current_exe().expect("own path");
    println!("rav1e 720p speed 10 quantizer 110, {frames}-frame slideshow clip (stills + fades)");
    println!("| configuration | wall s | CPU s | bytes | peak RSS MB (input frames alone) |");
    println!("|---|---|---|---|---|");
    for (i, lever) in LEVERS.iter().enumerate() {
        let out = Command::new(&exe)
            .args(["--child", &i.to_string(), "--frames", &frames.to_string()])
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<f64> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        if v.len() != 5 {
            let err = String::from_utf8_lossy(&out.stderr);
            let reason = err.lines().find(|l| !l.trim().is_empty() && !l.starts_with("thread")).unwrap_or("no output");
            println!("| {} | failed: {reason} |", lever.name);
            continue;
        }
        println!("| {} | {:.1} | {:.1} | {} | {:.0} ({:.0}) |", lever.name, v[0], v[4], v[1], v[2], v[3]);
    }
}
