#!/usr/bin/env python3
"""samvideo vs an ffmpeg pipeline on the standard slideshow job, side by side.

One command regenerates docs/performance.md:

    python3 bench/run.py            # full run (about an hour on 2 busy cores)
    python3 bench/run.py --quick    # smoke run, seconds; writes target/bench/performance-quick.md

What it does (python3 standard library only, so it runs wherever `cargo` and `ffmpeg` do):
1. Makes the inputs with ffmpeg: 10 different 1920x1080 JPEG stills (test patterns, fractals,
   automata, all with film-grain noise so they do not compress trivially), a speech-like
   voice-over (MP3, 44.1 kHz mono) and music (Ogg Vorbis, 44.1 kHz stereo).
2. Writes the samvideo mix-video spec: the 10 stills, fade transitions of 0.5 s, voice + looped
   music at volume 0.3 (no ducking, so ffmpeg's `amix` does the same work), 30 fps, exactly
   30 s. Clip lengths follow docs/timing.md: neighbours overlap by the transition, so each
   still lasts (frames + 9 x 15) / 10 frames.
3. Renders it with the release `samvideo` binary, and with the equivalent ffmpeg pipeline
   (`-loop 1` stills, Lanczos scale + centre crop to BT.709 limited range, chained `xfade`,
   `amix`, libopus 128k) encoded with librav1e at the speed and quantizer samvideo uses for
   that output_quality (read from samvideo-core/src/plan/lower.rs), plus libsvtav1 and libx264.
   Runs are interleaved round-robin so machine load hits every pipeline alike.
4. Measures per run: wall seconds, CPU seconds (user + sys of the child, os.wait4), peak RSS
   (ru_maxrss of the child), output bytes; per pipeline: SSIM (ffmpeg `ssim` filter, decoded
   with libdav1d) against samvideo's lossless y4m output of the same spec, and against the
   pipeline's own unencoded frames.
5. Writes the tables, the machine, the date and the command into docs/performance.md,
   followed by bench/notes.md (the hand-written analysis of the levers).
"""

import argparse
import filecmp
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FPS = 30
TRANSITION_S = 0.5
MUSIC_VOLUME = 0.3
IMAGE_COUNT = 10

# (name, lavfi source) for the 10 stills; every one gets grain on top.
STILLS = [
    ("testsrc2", "testsrc2=s=1920x1080"),
    ("mandelbrot", "mandelbrot=s=1920x1080:maxiter=300"),
    ("cellauto", "cellauto=s=1920x1080:rule=30:random_fill_ratio=0.5:scroll=0"),
    ("life", "life=s=1920x1080:ratio=0.3:mold=20:life_color=#40c0ff:death_color=#802020:mold_color=#203020"),
    ("gradients", "gradients=s=1920x1080:n=6:seed=7"),
    ("smptehdbars", "smptehdbars=s=1920x1080"),
    ("rgbtestsrc", "rgbtestsrc=s=1920x1080"),
    ("sierpinski", "sierpinski=s=1920x1080:seed=3"),
    ("colorspectrum", "colorspectrum=s=1920x1080:type=all"),
    ("colorchart", "colorchart=patch_size=128x128:preset=reference"),
]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd, **kw):
    """Run a helper command (not measured); raise with its stderr on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


class Sink:
    """A FIFO drained by a thread: a child writes raw frames to it and they are discarded.

    (Not /dev/null: a failed render removes its partial output, and that must never be a
    device node.)"""

    def __init__(self, path: Path):
        self.path = path
        if path.exists():
            path.unlink()
        os.mkfifo(path)

    def __enter__(self):
        import threading

        def drain():
            with open(self.path, "rb", buffering=0) as f:
                while f.read(1 << 20):
                    pass

        self.thread = threading.Thread(target=drain, daemon=True)
        self.thread.start()
        return str(self.path)

    def __exit__(self, *exc):
        if self.thread.is_alive():
            # The child never opened the FIFO (failed early): unblock the reader.
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        self.thread.join(timeout=5)


def measure(cmd, out_path=None, sink=None):
    """Run `cmd` as a child; return wall, CPU and peak RSS of that child (not of Python)."""
    if sink is not None:
        with Sink(sink):
            return measure(cmd, out_path)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Read stderr in the background so a chatty child cannot block on a full pipe.
    import threading

    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()))
    reader.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = (err[0] if err else b"").decode(errors="replace")[-3000:]
        raise RuntimeError(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{tail}")
    size = None
    if out_path is not None and os.path.exists(out_path) and not str(out_path).startswith("/dev/"):
        size = os.path.getsize(out_path)
    return {
        "wall": wall,
        "cpu": ru.ru_utime + ru.ru_stime,
        "rss_mb": ru.ru_maxrss / 1024.0,  # Linux reports KiB
        "bytes": size,
    }


# ---------------------------------------------------------------- inputs


def make_inputs(work: Path, voice_s: float):
    """The stills, voice and music (kept between runs: same parameters, same files)."""
    work.mkdir(parents=True, exist_ok=True)
    stills = []
    for i, (name, src) in enumerate(STILLS):
        path = work / f"still-{i:02d}-{name}.jpg"
        stills.append(path.name)
        if path.exists():
            continue
        # 2 s in, so the automata and fractals have structure; grain so nothing is flat.
        vf = f"scale=1920:1080,format=yuv444p,noise=alls=14:allf=u+t,hue=h={i * 36}"
        sh(["ffmpeg", "-hide_banner", "-y", "-v", "error", "-f", "lavfi", "-ss", "2", "-i", src,
            "-vf", vf, "-frames:v", "1", "-q:v", "2", str(path)])
    voice = work / f"voice-{voice_s:g}s.mp3"
    if not voice.exists():
        # Speech-like: a buzzy pitch gliding 110..190 Hz, syllables at 4 Hz, pauses.
        expr = ("0.6*sin(2*PI*(150+40*sin(2*PI*0.3*t))*t)*(0.5+0.5*sin(2*PI*4*t))"
                "*gt(sin(2*PI*0.23*t)+0.4,0)+0.02*random(0)")
        sh(["ffmpeg", "-hide_banner", "-y", "-v", "error", "-f", "lavfi", "-i",
            f"aevalsrc='{expr}':s=44100:d={voice_s}", "-c:a", "libmp3lame", "-b:a", "96k", str(voice)])
    music = work / "music-47s.ogg"
    if not music.exists():
        # A chord with a slow tremolo; 47 s so the loop point falls mid-video.
        expr = ("0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277.18*t)+0.15*sin(2*PI*329.63*t)"
                "*(0.7+0.3*sin(2*PI*0.5*t))|0.2*sin(2*PI*220.5*t)+0.15*sin(2*PI*329.63*t)")
        sh(["ffmpeg", "-hide_banner", "-y", "-v", "error", "-f", "lavfi", "-i",
            f"aevalsrc='{expr}':s=44100:d=47", "-c:a", "libvorbis", "-q:a", "5", str(music)])
    return stills, voice.name, music.name


def clip_frames(total_frames: int, tf: int, per_clip: float = 103.5):
    """Clip lengths (frames) whose overlapped sum is exactly `total_frames`."""
    n = max(1, round((total_frames - tf) / (per_clip - tf)))
    total = total_frames + (n - 1) * tf
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def write_spec(work: Path, name: str, stills, voice, music, seconds: float, quality: str, codec=None):
    tf = round(TRANSITION_S * FPS)
    lens = clip_frames(round(seconds * FPS), tf)
    spec = {
        "data": {
            "media_list": [
                {"type": "image", "url": stills[i % len(stills)], "duration": round(f / FPS, 6)}
                for i, f in enumerate(lens)
            ],
            "voice_url": voice,
            "background_url": music,
            "settings": {
                "aspect_ratio": "16:9",
                "output_quality": quality,
                "fps": FPS,
                "transition_type": "fade",
                "transition_duration": TRANSITION_S,
                "loop_audio": True,
                "audio_volume": MUSIC_VOLUME,
            },
        }
    }
    if codec:
        spec["data"]["settings"]["output_codec"] = codec
    path = work / f"{name}.json"
    path.write_text(json.dumps(spec, indent=1))
    return path, lens


PRESETS_SRC = "samvideo-core/src/plan/lower/spec.rs"


def encoder_presets(h264=False):
    """samvideo's rav1e (speed, quantizer) per output_quality, or with `h264` its openh264 QP,
    read from the plan code."""
    src = (ROOT / PRESETS_SRC).read_text()
    out = {}
    pat = r"Quality::(\w+) => EncodePreset \{ speed: (\d+), quantizer: (\d+), h264: H264Qp::around\((\d+)\) \}"
    for q, s, qp, h264_qp in re.findall(pat, src):
        out[q.lower()] = int(h264_qp) if h264 else (int(s), int(qp))
    if not {"low", "medium", "high"} <= out.keys():
        raise SystemExit(f"cannot read EncodePreset per quality from {PRESETS_SRC}")
    return out


# ---------------------------------------------------------------- pipelines


def ffmpeg_pipeline(work: Path, stills, voice, music, lens, w, h, out, video_args, audio=True,
                    audio_args=("-c:a", "libopus", "-b:a", "128k")):
    """The equivalent ffmpeg job: what Editly-style scripts run underneath."""
    tf = round(TRANSITION_S * FPS)
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-v", "error"]
    for i, f in enumerate(lens):
        cmd += ["-loop", "1", "-framerate", str(FPS), "-t", f"{f / FPS:.6f}", "-i", str(work / stills[i % len(stills)])]
    n = len(lens)
    graph = []
    for i in range(n):
        # JPEG (full-range BT.601) -> RGB -> Lanczos cover-crop -> BT.709 limited 4:2:0, like samvideo.
        graph.append(
            f"[{i}:v]format=rgb24,scale={w}:{h}:force_original_aspect_ratio=increase:flags=lanczos,"
            f"crop={w}:{h},scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,setsar=1[v{i}]"
        )
    prev, start = "v0", 0
    for i in range(1, n):
        start += lens[i - 1] - tf
        label = f"x{i}" if i < n - 1 else "vout"
        graph.append(f"[{prev}][v{i}]xfade=transition=fade:duration={tf / FPS:.6f}:offset={start / FPS:.6f}[{label}]")
        prev = label
    if n == 1:
        graph.append("[v0]null[vout]")
    total = (sum(lens) - (n - 1) * tf) / FPS
    if audio:
        cmd += ["-i", str(work / voice), "-stream_loop", "-1", "-i", str(work / music)]
        graph.append(f"[{n}:a]aresample=48000,apad[va]")
        graph.append(f"[{n + 1}:a]aresample=48000,volume={MUSIC_VOLUME}[ma]")
        graph.append(f"[va][ma]amix=inputs=2:duration=longest:normalize=0,atrim=end={total:.6f}[aout]")
    cmd += ["-filter_complex", ";".join(graph), "-map", "[vout]"]
    if audio:
        cmd += ["-map", "[aout]", *audio_args]
    cmd += video_args + ["-t", f"{total:.6f}", str(out)]
    return cmd


def video_args(kind, speed=None, qp=None, crf=23):
    colour = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]
    keyint = ["-g", str(10 * FPS), "-keyint_min", "12"]  # samvideo: keyframes <= 10 s, min 12
    if kind == "librav1e":
        return ["-c:v", "librav1e", "-speed", str(speed), "-qp", str(qp)] + keyint + colour + ["-movflags", "+faststart"]
    if kind == "libsvtav1":
        return ["-c:v", "libsvtav1", "-preset", "12", "-crf", "35"] + keyint + colour + ["-movflags", "+faststart"]
    if kind == "libx264":
        return ["-c:v", "libx264", "-preset", "veryfast", "-crf", f"{crf:.2f}"] + keyint + colour + ["-movflags", "+faststart"]
    if kind == "y4m":
        return ["-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "-strict", "-1"]
    raise ValueError(kind)


def samvideo_cmd(binary, spec, out, fmt="mp4", threads=None):
    cmd = [str(binary), "render", str(spec), "--endpoint", "mix-video", "-q", "--format", fmt, "-o", str(out)]
    return cmd + (["--threads", str(threads)] if threads else [])


def ssim(distorted, reference):
    """(Y, All) SSIM of `distorted` against `reference`, and the frame count compared."""
    p = sh(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(distorted), "-i", str(reference),
            "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"])
    m = re.search(r"SSIM Y:([\d.]+).*All:([\d.]+)", p.stderr)
    frames = re.findall(r"frame=\s*(\d+)", p.stderr)
    if not m:
        raise RuntimeError(f"no SSIM in ffmpeg output for {distorted}")
    return float(m.group(1)), float(m.group(2)), int(frames[-1]) if frames else None


def measure_output(row, out, ref, ffref):
    """Frame count and SSIM of a pipeline's output into its row: against samvideo's lossless y4m
    (`ref`), and for ffmpeg pipelines also against ffmpeg's own unencoded frames (`ffref`)."""
    row["out"] = str(out)
    row["frames"] = frame_count(out)
    log(f"  ssim: {row['name']}")
    row["ssim_y"], row["ssim_all"], _ = ssim(out, ref)
    if row["name"].startswith("ffmpeg"):
        row["ssim_own_y"], row["ssim_own_all"], _ = ssim(out, ffref)
    else:
        row["ssim_own_y"], row["ssim_own_all"] = row["ssim_y"], row["ssim_all"]


def frame_count(path):
    p = sh(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
            "stream=nb_read_packets", "-of", "csv=p=0", str(path)])
    return int(p.stdout.strip().splitlines()[0])


# ---------------------------------------------------------------- sections


def run_rounds(pipelines, reps):
    """Run every pipeline `reps[name]` times, interleaved round-robin; return samples per name."""
    samples = {p[0]: [] for p in pipelines}
    rounds = max(reps.get(p[0], 1) for p in pipelines)
    for r in range(rounds):
        for name, cmd, out, *sink in pipelines:
            if r >= reps.get(name, 1):
                continue
            log(f"  run {r + 1}: {name}")
            samples[name].append(measure(cmd, out, sink[0] if sink else None))
            log(f"    wall {samples[name][-1]['wall']:.1f} s, cpu {samples[name][-1]['cpu']:.1f} s, "
                f"rss {samples[name][-1]['rss_mb']:.0f} MB")
    return samples


def summarize(runs):
    med = lambda k: statistics.median(r[k] for r in runs)
    return {
        "n": len(runs),
        "wall": med("wall"),
        "cpu": med("cpu"),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "bytes": runs[-1]["bytes"],
        "walls": [round(r["wall"], 1) for r in runs],
    }


ONE_ENCODER = "samvideo, one encoder (--threads 1)"
# Run --ref-reps times (e.g. once): reference points and the memory-lean setting, not the comparison.
REFERENCE_ROWS = (ONE_ENCODER, "ffmpeg + libsvtav1", "ffmpeg + libx264", "ffmpeg compositing only (y4m, discarded)")


def section_resolution(args, work, binary, inputs, quality, seconds, reps, slow_reps, ref_reps):
    stills, voice, music = inputs
    speed, qp = encoder_presets()[quality]
    spec, lens = write_spec(work, f"job-{quality}-{seconds:g}s", stills, voice, music, seconds, quality)
    w, h = {"low": (854, 480), "medium": (1280, 720), "high": (1920, 1080)}[quality]
    d = work / f"{quality}-{seconds:g}s"
    d.mkdir(exist_ok=True)
    log(f"section {w}x{h}, {seconds:g} s, rav1e speed {speed} quantizer {qp}: references")
    ref = d / "samvideo-ref.y4m"
    sh(samvideo_cmd(binary, spec, ref, "y4m"))
    ffref = d / "ffmpeg-ref.y4m"
    sh(ffmpeg_pipeline(work, stills, voice, music, lens, w, h, ffref, video_args("y4m"), audio=False))
    pipes = [
        ("samvideo (rav1e)", samvideo_cmd(binary, spec, d / "samvideo.mp4"), d / "samvideo.mp4"),
        (ONE_ENCODER, samvideo_cmd(binary, spec, d / "samvideo-1.mp4", threads=1), d / "samvideo-1.mp4"),
        ("samvideo compositing only (y4m, discarded)", samvideo_cmd(binary, spec, d / "sink.y4m", "y4m"), None,
         d / "sink.y4m"),
        (f"ffmpeg + librav1e", ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "ffmpeg-rav1e.mp4",
                                              video_args("librav1e", speed, qp)), d / "ffmpeg-rav1e.mp4"),
        ("ffmpeg + libsvtav1", ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "ffmpeg-svtav1.mp4",
                                               video_args("libsvtav1")), d / "ffmpeg-svtav1.mp4"),
        ("ffmpeg + libx264", ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "ffmpeg-x264.mp4",
                                             video_args("libx264")), d / "ffmpeg-x264.mp4"),
        ("ffmpeg compositing only (y4m, discarded)",
         ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "sink.y4m", video_args("y4m"), audio=False), None,
         d / "sink.y4m"),
    ]
    rep_of = {p[0]: reps for p in pipes}
    rep_of["ffmpeg + librav1e"] = slow_reps
    for name in REFERENCE_ROWS:
        rep_of[name] = min(reps, ref_reps)
    samples = run_rounds(pipes, rep_of)
    rows = []
    for name, cmd, out, *_ in pipes:
        row = {"name": name, "cmd": shlex.join(str(c) for c in cmd), **summarize(samples[name])}
        same = next((r for r in rows if r.get("out") and filecmp.cmp(r["out"], out, shallow=False)), None) if out else None
        if same is not None:
            # Byte-identical output (samvideo's worker count does not change the bytes).
            row["identical_to"] = same["name"]
            for k in ("frames", "ssim_y", "ssim_all", "ssim_own_y", "ssim_own_all"):
                row[k] = same[k]
        elif out is not None:
            measure_output(row, out, ref, ffref)
        rows.append(row)
    ff_vs_ref = ssim(ffref, ref)
    for p in (ref, ffref):
        p.unlink()
    return {
        "quality": quality, "width": w, "height": h, "seconds": seconds,
        "frames": sum(lens) - (len(lens) - 1) * round(TRANSITION_S * FPS),
        "clips": len(lens), "speed": speed, "qp": qp, "rows": rows, "ffmpeg_frames_vs_samvideo_ssim": ff_vs_ref[:2],
        "spec": str(spec.relative_to(ROOT)) if spec.is_relative_to(ROOT) else str(spec),
    }


AAC = ("-c:a", "aac", "-b:a", "128k")


def encode_y4m_binary(given=None):
    """Build the encoder-only bench (`samvideo-core/benches/encode_y4m.rs`); return its path
    (`given`: a binary built already, e.g. with `--no-build`)."""
    if given:
        return str(given)
    p = sh(["cargo", "bench", "-p", "samvideo-core", "--bench", "encode_y4m", "--no-run", "--message-format=json"],
           cwd=ROOT)
    for line in p.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "encode_y4m" \
                and msg.get("executable"):
            return msg["executable"]
    raise SystemExit("cargo built no encode_y4m executable")


def match_crf(make_cmd, out, target_bytes, lo=14.0, hi=36.0, tol=0.03, steps=8):
    """The x264 CRF whose output is within `tol` of `target_bytes` (bisection: size falls as
    CRF rises). Returns (crf, bytes)."""
    best = None
    for _ in range(steps):
        crf = (lo + hi) / 2
        sh(make_cmd(crf))
        size = out.stat().st_size
        log(f"    crf {crf:.2f}: {size} bytes (target {target_bytes})")
        if best is None or abs(size - target_bytes) < abs(best[1] - target_bytes):
            best = (crf, size)
        if abs(size / target_bytes - 1) <= tol / 2:
            break
        lo, hi = (crf, hi) if size > target_bytes else (lo, crf)
    return best


def section_h264(args, work, binary, inputs, seconds, reps):
    """samvideo's H.264 + AAC output against ffmpeg + libx264 veryfast + AAC on the standard
    720p job, x264's CRF chosen so the two files are the same size (±3 %), plus both encoders
    alone on the same y4m."""
    stills, voice, music = inputs
    qp = encoder_presets(h264=True)["medium"]
    spec, lens = write_spec(work, f"job-medium-{seconds:g}s-h264", stills, voice, music, seconds, "medium", "h264")
    w, h = 1280, 720
    d = work / f"h264-{seconds:g}s"
    d.mkdir(exist_ok=True)
    log(f"section H.264 {w}x{h}, {seconds:g} s, openh264 QP {qp}: references")
    ref = d / "samvideo-ref.y4m"
    sh(samvideo_cmd(binary, spec, ref, "y4m"))
    ffref = d / "ffmpeg-ref.y4m"
    sh(ffmpeg_pipeline(work, stills, voice, music, lens, w, h, ffref, video_args("y4m"), audio=False))
    sv_out = d / "samvideo-h264.mp4"
    sh(samvideo_cmd(binary, spec, sv_out))
    x264_out = d / "ffmpeg-x264.mp4"
    x264 = lambda crf: ffmpeg_pipeline(work, stills, voice, music, lens, w, h, x264_out,
                                       video_args("libx264", crf=crf), audio_args=AAC)
    log("  matching x264's size")
    crf, _ = match_crf(x264, x264_out, sv_out.stat().st_size)
    enc = encode_y4m_binary(args.encode_y4m)
    enc_sv = d / "enc-samvideo.mp4"
    enc_x264 = d / "enc-x264.mp4"
    x264_enc = lambda c: ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-v", "error", "-i", str(ref)] \
        + video_args("libx264", crf=c) + [str(enc_x264)]
    sh([enc, "--codec", "h264", "--qp", str(qp), str(ref), str(enc_sv)])
    log("  matching x264's size, encoder only")
    enc_crf, _ = match_crf(x264_enc, enc_x264, enc_sv.stat().st_size)
    pipes = [
        ("samvideo (h264)", samvideo_cmd(binary, spec, sv_out), sv_out),
        (f"ffmpeg + libx264 veryfast, CRF {crf:.2f} (size-matched)", x264(crf), x264_out),
        (f"encoder only: samvideo H.264 (openh264 High, QP {qp}), samvideo's y4m",
         [enc, "--codec", "h264", "--qp", str(qp), str(ref), str(enc_sv)], enc_sv),
        (f"encoder only: libx264 veryfast, CRF {enc_crf:.2f} (size-matched), samvideo's y4m", x264_enc(enc_crf), enc_x264),
    ]
    samples = run_rounds(pipes, {p[0]: reps for p in pipes})
    rows = []
    for name, cmd, out in pipes:
        row = {"name": name, "cmd": shlex.join(str(c) for c in cmd), **summarize(samples[name])}
        measure_output(row, out, ref, ffref)
        rows.append(row)
    for p in (ref, ffref):
        p.unlink()
    return {"width": w, "height": h, "seconds": seconds, "qp": qp, "crf": crf, "enc_crf": enc_crf,
            "frames": sum(lens) - (len(lens) - 1) * round(TRANSITION_S * FPS), "clips": len(lens), "rows": rows,
            "spec": str(spec.relative_to(ROOT)) if spec.is_relative_to(ROOT) else str(spec)}


def section_long(args, work, binary, inputs, short_s, long_s, reps, earlier):
    """samvideo at 720p, `short_s` vs `long_s`; the short runs of the 720p section are reused."""
    stills, voice, music = inputs
    specs = []
    for s in (short_s, long_s):
        spec, lens = write_spec(work, f"job-medium-{s:g}s", stills, voice, music, s, "medium")
        specs.append((s, spec, lens))
    d = work / "long"
    d.mkdir(exist_ok=True)
    log(f"section memory growth: {short_s:g} s vs {long_s:g} s")
    pipes = [(f"samvideo {s:g} s ({len(lens)} stills)", samvideo_cmd(binary, spec, d / f"samvideo-{s:g}.mp4"),
              d / f"samvideo-{s:g}.mp4") for s, spec, lens in specs]
    prior = next((r for sec in earlier if sec["quality"] == "medium" and sec["seconds"] == short_s
                  for r in sec["rows"] if r["name"] == "samvideo (rav1e)"), None)
    if prior is not None:
        samples = run_rounds(pipes[1:], {pipes[1][0]: 1})
        short = {"name": pipes[0][0] + ", runs of the 720p section", "seconds": short_s,
                 **{k: prior[k] for k in ("n", "wall", "cpu", "rss_mb", "bytes", "walls")}}
    else:
        samples = run_rounds(pipes, {pipes[0][0]: reps, pipes[1][0]: 1})
        short = {"name": pipes[0][0], "seconds": short_s, **summarize(samples[pipes[0][0]])}
    return {"rows": [short, {"name": pipes[1][0], "seconds": long_s, **summarize(samples[pipes[1][0]])}]}


# ---------------------------------------------------------------- report


def fmt_row(r, base):
    ssim_y = f"{r['ssim_y']:.4f}" if "ssim_y" in r else ""
    ssim_own = f"{r['ssim_own_y']:.4f}" if "ssim_own_y" in r else ""
    kb = f"{r['bytes'] / 1024:.0f}" if r.get("bytes") else ""
    bpf = ""
    ratio = f"{r['wall'] / base['wall']:.2f}" if base else ""
    cpu_ratio = f"{r['cpu'] / base['cpu']:.2f}" if base else ""
    walls = "/".join(f"{x:g}" for x in r["walls"])
    name = r["name"] + (f" — byte-identical to {r['identical_to']}" if r.get("identical_to") else "")
    return (f"| {name} | {r['n']} | {r['wall']:.1f} ({walls}) | {ratio} | {r['cpu']:.1f} | {cpu_ratio} "
            f"| {r['rss_mb']:.0f} | {kb} | {ssim_y} | {ssim_own} |{bpf}")


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
        mem = f"{int(mem) / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration):
        mem = "?"
    ff = sh(["ffmpeg", "-version"]).stdout.splitlines()[0]
    rav1e = re.search(r'name = "rav1e"\nversion = "([^"]+)"', (ROOT / "Cargo.lock").read_text())
    try:
        lib = sh(["dpkg-query", "-W", "-f", "${Version}", "librav1e0"]).stdout.strip()
    except (RuntimeError, FileNotFoundError):
        lib = "?"
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "mem": mem, "kernel": platform.release(), "ffmpeg": ff,
        "rav1e": rav1e.group(1) if rav1e else "?", "librav1e": lib, "rev": rev,
    }


def verdicts(res):
    out = []
    secs = res["sections"]
    sec = next((s for s in secs if s["quality"] == "medium"), secs[0] if secs else None)
    if sec:
        rows = {r["name"]: r for r in sec["rows"]}
        sv, ff = rows["samvideo (rav1e)"], rows["ffmpeg + librav1e"]
        comp = rows["samvideo compositing only (y4m, discarded)"]
        ratio = sv["wall"] / ff["wall"]
        out.append(f"- Wall time vs ffmpeg + librav1e at the same speed/quantizer ({sec['height']}p): **{ratio:.2f}x** "
                   f"({sv['wall']:.1f} s vs {ff['wall']:.1f} s) — target ≤ 0.80x: **{'met' if ratio <= 0.8 else 'not met'}**.")
        better = sv["ssim_y"] >= ff["ssim_y"] and sv["bytes"] <= ff["bytes"]
        out.append(f"- Quality per byte ({sec['height']}p): samvideo SSIM-Y {sv['ssim_y']:.4f} in {sv['bytes'] / 1024:.0f} KiB, "
                   f"ffmpeg + librav1e {ff['ssim_y']:.4f} in {ff['bytes'] / 1024:.0f} KiB "
                   f"(against its own unencoded frames: {ff['ssim_own_y']:.4f}) — equal or better SSIM in fewer "
                   f"bytes: **{'met' if better else 'not met'}**.")
        one = rows.get(ONE_ENCODER)
        best = min(sv["rss_mb"], one["rss_mb"]) if one else sv["rss_mb"]
        one_txt = (f"; one encoder (`--threads 1`): **{one['rss_mb']:.0f} MB** at {one['wall'] / ff['wall']:.2f}x the wall time"
                   if one else "")
        out.append(f"- Peak RSS at {sec['height']}p: default (one encoder per core) **{sv['rss_mb']:.0f} MB**{one_txt} "
                   f"(ffmpeg + librav1e {ff['rss_mb']:.0f} MB) — target ≤ 300 MB: **{'met' if best <= 300 else 'not met'}**.")
        share_w = comp["wall"] / sv["wall"]
        share_c = comp["cpu"] / sv["cpu"]
        out.append(f"- Compositing share (samvideo with y4m output discarded vs the full MP4 render): **{share_w * 100:.1f} %** of wall time, "
                   f"{share_c * 100:.1f} % of CPU time — target ≤ 10 %: **{'met' if share_w <= 0.10 else 'not met'}**.")
    if res.get("long"):
        a, b = sorted(res["long"]["rows"], key=lambda r: r["seconds"])
        g = b["rss_mb"] / a["rss_mb"] - 1
        out.append(f"- Memory growth {a['seconds']:g} s → {b['seconds']:g} s: {a['rss_mb']:.0f} MB → {b['rss_mb']:.0f} MB "
                   f"(**{g * 100:+.1f} %**) — target within 10 %: **{'met' if abs(g) <= 0.10 else 'not met'}**.")
    return out


def write_report(res, path: Path):
    m = res["machine"]
    L = ["# Performance", "",
         "<!-- Generated by bench/run.py: edit bench/notes.md or the script, not this file. -->", "",
         f"Regenerate: `{res['command']}`", "",
         f"- Date: {res['date']} (run took {res.get('elapsed_min', 0):.0f} min)",
         f"- Machine: {m['cpu']}, {m['cores']} cores, {m['mem']} RAM, Linux {m['kernel']}; "
         f"load average {res['load_start']} at start, {res.get('load_end', '?')} at the end "
         "(shared machine: other jobs ran alongside, ratios between interleaved runs are what count)",
         f"- samvideo {m['rev']} (release build, rav1e {m['rav1e']} with asm); {m['ffmpeg']} "
         f"(Debian librav1e {m['librav1e']}, libsvtav1, libx264)", ""]
    L.pop()  # the blank line closing the header list
    for e in res.get("earlier", []):
        L.append(f"- Sections kept from an earlier run: `{e.get('command', '?')}` on {e.get('date', '?')} "
                 f"(load average {e.get('load_start', '?')} at start, {e.get('load_end', '?')} at the end)")
    L.append("")
    if res.get("sections"):
        L += ["## Targets", ""] + verdicts(res) + [""]
    for s in res.get("sections", []):
        L += [f"## {s['width']}x{s['height']}, {s['seconds']:g} s ({s['frames']} frames, {s['clips']} stills), "
              f"rav1e speed {s['speed']} quantizer {s['qp']}", "",
              "Wall/CPU: median seconds (every run's wall in brackets). RSS: peak of the process. SSIM-Y: luma SSIM of "
              "the decoded output against samvideo's lossless y4m of the same spec; own: against the pipeline's "
              "own unencoded frames (isolates the encoder).", "",
              "| pipeline | runs | wall s | wall ratio | CPU s | CPU ratio | peak RSS MB | KiB | SSIM-Y | SSIM-Y own |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        base = next(r for r in s["rows"] if r["name"] == "ffmpeg + librav1e")
        for r in s["rows"]:
            L.append(fmt_row(r, base))
        fy, fa = s["ffmpeg_frames_vs_samvideo_ssim"]
        L += ["", f"Ratios are against ffmpeg + librav1e. ffmpeg's unencoded frames vs samvideo's: SSIM-Y {fy:.4f} "
                  f"(the two compositors agree; the rest of the SSIM gap is the encoder).", "",
              f"Spec: `{s['spec']}`.", "", "<details><summary>Commands</summary>", "", "```"]
        L += [r["cmd"] for r in s["rows"]]
        L += ["```", "", "</details>", ""]
    if res.get("h264"):
        s = res["h264"]
        rows = s["rows"]
        sv, x = rows[0], rows[1]
        es, ex = rows[2], rows[3]
        L += [f"## H.264 + AAC output: {s['width']}x{s['height']}, {s['seconds']:g} s ({s['frames']} frames, "
              f"{s['clips']} stills), openh264 QP {s['qp']}", "",
              "`output_codec: h264` against ffmpeg + libx264 `veryfast` + AAC 128k on the same job, x264's CRF "
              "chosen by bisection so the two files are the same size (±3 %); then each encoder alone on samvideo's "
              "lossless y4m of the spec (encoder against encoder, no compositing). Ratios against the x264 row above "
              "each.", "",
              f"- Whole job: samvideo {sv['wall']:.1f} s wall vs x264 {x['wall']:.1f} s (**{sv['wall'] / x['wall']:.2f}x**; "
              f"target ≤ 1.0x: **{'met' if sv['wall'] <= x['wall'] else 'not met'}**), {sv['bytes'] / 1024:.0f} vs "
              f"{x['bytes'] / 1024:.0f} KiB ({(sv['bytes'] / x['bytes'] - 1) * 100:+.1f} %), SSIM-Y {sv['ssim_y']:.4f} vs "
              f"{x['ssim_y']:.4f} (target ≥ x264 − 0.005: **{'met' if sv['ssim_y'] >= x['ssim_y'] - 0.005 else 'not met'}**).",
              f"- Encoder only: {es['wall']:.1f} s vs {ex['wall']:.1f} s (**{es['wall'] / ex['wall']:.2f}x**), "
              f"SSIM-Y {es['ssim_y']:.4f} vs {ex['ssim_y']:.4f} at {es['bytes'] / 1024:.0f} vs {ex['bytes'] / 1024:.0f} KiB.", "",
              "| pipeline | runs | wall s | wall ratio | CPU s | CPU ratio | peak RSS MB | KiB | SSIM-Y | SSIM-Y own |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        L += [fmt_row(sv, x), fmt_row(x, x), fmt_row(es, ex), fmt_row(ex, ex)]
        L += ["", f"Spec: `{s['spec']}`.", "", "<details><summary>Commands</summary>", "", "```"]
        L += [r["cmd"] for r in rows]
        L += ["```", "", "</details>", ""]
    if res.get("long"):
        L += ["## Memory growth with video length (samvideo, 720p)", "",
              "| run | runs | wall s | CPU s | peak RSS MB | KiB |", "|---|---|---|---|---|---|"]
        for r in res["long"]["rows"]:
            L.append(f"| {r['name']} | {r['n']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['rss_mb']:.0f} | {r['bytes'] / 1024:.0f} |")
        L.append("")
    notes = ROOT / "bench/notes.md"
    if notes.exists():
        L += [notes.read_text().rstrip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L))
    log(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: short videos, one run each, 480p/720p")
    ap.add_argument("--reps", type=int, default=3, help="runs per pipeline (median reported)")
    ap.add_argument("--slow-reps", type=int, default=None, help="runs of ffmpeg + librav1e (default: --reps)")
    ap.add_argument("--ref-reps", type=int, default=None,
                    help="runs of the reference rows (one encoder, libsvtav1, libx264, ffmpeg compositing; default: --reps)")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the standard job")
    ap.add_argument("--long-seconds", type=float, default=180.0, help="length of the memory-growth run")
    ap.add_argument("--sections", default="720,h264,long,1080", help="comma list of 480,720,1080,h264,long")
    ap.add_argument("--reps-1080", type=int, default=1, help="runs per pipeline at 1080p")
    ap.add_argument("--seconds-1080", type=float, default=None, help="length of the 1080p job (default --seconds)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the sections of the previous results.json that this run does not redo")
    ap.add_argument("--work", type=Path, default=ROOT / "target/bench", help="scratch folder for inputs and outputs")
    ap.add_argument("--doc", type=Path, default=None, help="report path (default docs/performance.md)")
    ap.add_argument("--samvideo", type=Path, default=ROOT / "target/release/samvideo", help="samvideo binary")
    ap.add_argument("--encode-y4m", type=Path, help="the encoder-only bench binary (default: cargo bench builds it)")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build --release first")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the report from the last results.json (e.g. after editing bench/notes.md)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.long_seconds, args.reps, args.reps_1080 = 7.0, 14.0, 1, 1
        if "--sections" not in sys.argv:
            args.sections = "720,h264,long"
    slow = args.slow_reps if args.slow_reps is not None else args.reps
    if args.report_only:
        results = args.work / ("results-quick.json" if args.quick else "results.json")
        write_report(json.loads(results.read_text()), args.doc or (
            args.work / "performance-quick.md" if args.quick else ROOT / "docs/performance.md"))
        return
    doc = args.doc or (args.work / "performance-quick.md" if args.quick else ROOT / "docs/performance.md")
    if not args.no_build:
        log("cargo build --release -p samvideo-http")
        subprocess.run(["cargo", "build", "--release", "-p", "samvideo-http"], cwd=ROOT, check=True)
    if not args.samvideo.exists():
        raise SystemExit(f"{args.samvideo} not found (build it: cargo build --release -p samvideo-http)")
    t0 = time.monotonic()
    res = {
        "command": "python3 bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "load_start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "sections": [],
    }
    inputs = make_inputs(args.work, max(1.0, args.seconds - 0.5))  # the voice ends 0.5 s before the job
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    results_path = args.work / ("results-quick.json" if args.quick else "results.json")
    if args.merge and results_path.exists():
        old = json.loads(results_path.read_text())
        redo = {{"480": "low", "720": "medium", "1080": "high"}.get(s) for s in sections}
        res["sections"] = [s for s in old.get("sections", []) if s["quality"] not in redo]
        for key in ("long", "h264"):
            if key not in sections and old.get(key):
                res[key] = old[key]
        res["earlier"] = old.get("earlier", []) + [{k: old[k] for k in ("command", "date", "load_start", "load_end")
                                                    if k in old}]
    for s in sections:
        if s in ("480", "720", "1080"):
            q = {"480": "low", "720": "medium", "1080": "high"}[s]
            reps = args.reps_1080 if s == "1080" else args.reps
            secs = args.seconds_1080 if s == "1080" and args.seconds_1080 else args.seconds
            ref_reps = args.ref_reps if args.ref_reps is not None else reps
            res["sections"].append(section_resolution(args, args.work, args.samvideo, inputs, q, secs,
                                                      reps, min(slow, reps), ref_reps))
            res["sections"].sort(key=lambda x: x["height"])
        elif s == "h264":
            res["h264"] = section_h264(args, args.work, args.samvideo, inputs, args.seconds, args.reps)
        elif s == "long":
            res["long"] = section_long(args, args.work, args.samvideo, inputs, args.seconds, args.long_seconds, args.reps,
                                       res["sections"])
        else:
            raise SystemExit(f"unknown section {s}")
        res["elapsed_min"] = (time.monotonic() - t0) / 60
        res["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        results_path.write_text(json.dumps(res, indent=1))
        write_report(res, doc)


if __name__ == "__main__":
    main()
