//! Encoder only: a Y4M file (8-bit 4:2:0, e.g. samvideo's lossless `--format y4m` render)
//! through samvideo's encoder seam into an MP4 without audio, so `bench/run.py` can put our
//! encoders beside libx264 fed the very same frames (the "encoder only" rows of
//! `docs/performance.md`).
//!
//! Not a criterion bench: the script times the process (wall, CPU, peak memory).
//!
//! Run: `cargo bench -p samvideo-core --bench encode_y4m -- --codec h264 --qp 26 IN.y4m OUT.mp4`
//! (`--still-qp` (its hold QP 6 above), `--transition-qp` override the QPs [`H264Qp::around`] derives; `--codec av1
//! --speed 10 --quantizer 110` for rav1e; `--svt` for SVT-AV1, the moving videos' encoder, at
//! the CRF the quantizer maps to). One encoder, one thread. A frame equal to the one
//! before is handed over as a repeat, as the renderer's static-frame reuse does (`--no-repeats`:
//! every frame as a new picture). A y4m does not say which frames are transitions: a new frame
//! that differs from the frames on both sides of it counts as one (right for the bench's
//! slideshows of stills and fades; the renderer knows it from the plan).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use samvideo_core::encode::FrameKind;
use samvideo_core::encode::{self, StreamSpec};
use samvideo_core::frame::Yuv420;
use samvideo_core::mux::mp4::Mp4Writer;
use samvideo_core::plan::{EncodePreset, H264Qp};
use samvideo_core::{FrameRate, VideoCodec};

struct Args {
    codec: VideoCodec,
    preset: EncodePreset,
    input: PathBuf,
    output: PathBuf,
    repeats: bool,
    svt: bool,
}

fn args() -> Result<Args, String> {
    let mut codec = VideoCodec::H264;
    let mut repeats = true;
    let mut svt = false;
    let mut preset = EncodePreset { speed: 10, motion_speed: 10, quantizer: 110, h264: H264Qp::around(26) };
    let (mut still, mut transition) = (None, None);
    let mut files = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--codec" => codec = value("--codec")?.parse()?,
            "--qp" => preset.h264 = H264Qp::around(value("--qp")?.parse().map_err(|e| format!("--qp: {e}"))?),
            "--still-qp" => still = Some(value("--still-qp")?.parse().map_err(|e| format!("--still-qp: {e}"))?),
            "--transition-qp" => {
                transition = Some(value("--transition-qp")?.parse().map_err(|e| format!("--transition-qp: {e}"))?)
            }
            "--speed" => preset.speed = value("--speed")?.parse().map_err(|e| format!("--speed: {e}"))?,
            "--quantizer" => {
                preset.quantizer = value("--quantizer")?.parse().map_err(|e| format!("--quantizer: {e}"))?
            }
            "--bench" => {}
            "--no-repeats" => repeats = false,
            "--svt" => svt = true,
            other if other.starts_with("--") => return Err(format!("unknown flag {other}")),
            file => files.push(PathBuf::from(file)),
        }
    }
    if let Some(still) = still {
        preset.h264 = preset.h264.with_still(still);
    }
    preset.h264.transition = transition.unwrap_or(preset.h264.transition);
    let [input, output] = <[PathBuf; 2]>::try_from(files).map_err(|_| "usage: [flags] IN.y4m OUT.mp4".to_string())?;
    Ok(Args { codec, preset, input, output, repeats, svt })
}

/// Width, height and rate from a `YUV4MPEG2 W.. H.. F..:..` header line.
fn header(line: &str) -> Result<(u32, u32, FrameRate), String> {
    let (mut w, mut h, mut fps) = (0, 0, None);
    for token in line.split_whitespace().skip(1) {
        let (tag, v) = token.split_at(1);
        match tag {
            "W" => w = v.parse().map_err(|_| format!("bad width {v}"))?,
            "H" => h = v.parse().map_err(|_| format!("bad height {v}"))?,
            "F" => {
                let (n, d) = v.split_once(':').ok_or("bad rate")?;
                let (n, d): (f64, f64) = (n.parse().map_err(|_| "bad rate")?, d.parse().map_err(|_| "bad rate")?);
                fps = FrameRate::from_number(n / d);
            }
            "C" if !v.starts_with("420") => return Err(format!("only 4:2:0 input (C{v})")),
            _ => {}
        }
    }
    Ok((w, h, fps.ok_or("no or unsupported frame rate")?))
}

fn run() -> Result<u64, String> {
    let a = args()?;
    let mut input = BufReader::with_capacity(1 << 20, std::fs::File::open(&a.input).map_err(|e| e.to_string())?);
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| e.to_string())?;
    let (width, height, fps) = header(&line)?;
    let spec = StreamSpec { codec: a.codec, width, height, fps, preset: a.preset, moving: a.svt };
    let mut encoder = encode::open(&spec, 1).map_err(|e| e.to_string())?;
    // One frame of lookahead: `next` is read before `current` is handed over.
    let mut previous = Yuv420::new(width, height);
    let mut current = Yuv420::new(width, height);
    let mut next = Yuv420::new(width, height);
    // Frames are counted first: the MP4 writer reserves its index up front.
    let plane = (width * height) as u64 * 3 / 2;
    let size = std::fs::metadata(&a.input).map_err(|e| e.to_string())?.len();
    let frames = (size - line.len() as u64) / (plane + 6);
    let mut mp4 = Mp4Writer::create(&a.output, width, height, fps, frames, a.codec, None).map_err(|e| e.to_string())?;
    let mut packets = Vec::new();
    let mut written = 0;
    if frames > 0 {
        read_frame(&mut input, &mut next)?;
    }
    for n in 0..frames {
        std::mem::swap(&mut current, &mut next);
        if n + 1 < frames {
            read_frame(&mut input, &mut next)?;
        }
        let same = a.repeats && n > 0 && current == previous;
        if same {
            encoder.repeat().map_err(|e| e.to_string())?;
        } else {
            let between = n > 0 && n + 1 < frames && current != next;
            let kind = if between { FrameKind::Transition } else { FrameKind::Regular };
            encoder.send(&current, kind).map_err(|e| e.to_string())?;
            std::mem::swap(&mut current, &mut previous);
        }
        encoder.receive(&mut packets).map_err(|e| e.to_string())?;
        for p in packets.drain(..) {
            mp4.write_video(&p.data, p.keyframe).map_err(|e| e.to_string())?;
            written += 1;
        }
    }
    encoder.flush();
    loop {
        let more = encoder.receive(&mut packets).map_err(|e| e.to_string())?;
        for p in packets.drain(..) {
            mp4.write_video(&p.data, p.keyframe).map_err(|e| e.to_string())?;
            written += 1;
        }
        if !more {
            break;
        }
    }
    if written != frames {
        return Err(format!("{written} packets for {frames} frames"));
    }
    mp4.finish().map_err(|e| e.to_string())
}

/// The next `FRAME` of a y4m stream into `frame`.
fn read_frame(input: &mut impl BufRead, frame: &mut Yuv420) -> Result<(), String> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| e.to_string())?;
    if !line.starts_with("FRAME") {
        return Err(format!("expected FRAME, found {line:?}"));
    }
    for p in [&mut frame.y, &mut frame.u, &mut frame.v] {
        input.read_exact(p).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(bytes) => {
            eprintln!("wrote {bytes} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("encode_y4m: {e}");
            ExitCode::FAILURE
        }
    }
}
