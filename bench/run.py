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
MAX_CLIPS = 100  # samvideo's limit per request: a 10-minute job holds each still longer

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


def clip_frames(total_frames: int, tf: int, per_clip: float = 103.5, count=None):
    """Clip lengths (frames) whose overlapped sum is exactly `total_frames`: ~`per_clip` frames
    each, or `count` clips."""
    n = count or min(MAX_CLIPS, max(1, round((total_frames - tf) / (per_clip - tf))))
    total = total_frames + (n - 1) * tf
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def write_spec(work: Path, name: str, stills, voice, music, seconds: float, quality: str, codec=None,
               count=None, settings=None, transcripts=None):
    """The standard job's spec (`count` stills, or one per ~3.45 s), `settings` on top of its
    settings, `transcripts` (one entry per word) for captions."""
    tf = round(TRANSITION_S * FPS)
    lens = clip_frames(round(seconds * FPS), tf, count=count)
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
    spec["data"]["settings"].update(settings or {})
    if transcripts:
        spec["data"]["transcripts"] = transcripts
    path = work / f"{name}.json"
    path.write_text(json.dumps(spec, indent=1))
    return path, lens


PRESETS_SRC = "samvideo-core/src/plan/lower/spec.rs"


def encoder_presets(h264=False):
    """samvideo's rav1e (speed, quantizer) per output_quality, or with `h264` its openh264 QP,
    read from the plan code (the speed of stills and fades; a segment in motion runs at the
    preset's `motion_speed`)."""
    src = (ROOT / PRESETS_SRC).read_text()
    out = {}
    pat = (r"Quality::(\w+) => EncodePreset \{ speed: (\d+),(?: motion_speed: \d+,)? quantizer: (\d+), "
           r"h264: H264Qp::around\((\d+)\) \}")
    for q, s, qp, h264_qp in re.findall(pat, src):
        out[q.lower()] = int(h264_qp) if h264 else (int(s), int(qp))
    if not {"low", "medium", "high"} <= out.keys():
        raise SystemExit(f"cannot read EncodePreset per quality from {PRESETS_SRC}")
    return out


# ---------------------------------------------------------------- pipelines


def ken_burns(w, h, zoom_max, frames):
    """ffmpeg's side of samvideo's `zoom_effect` on a still already cover-scaled to `zoom_max`
    times the frame: a centred zoom from 1 to `zoom_max` over the clip's frames, linear in the
    frame number as `Compositor::draw_clip` does (zoom = 1 + (max - 1) * n / (frames - 1))."""
    z = f"1+{zoom_max - 1:g}*on/{max(frames, 2) - 1}"
    return f"zoompan=z='{z}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s={w}x{h}:fps={FPS}"


def ffmpeg_pipeline(work: Path, stills, voice, music, lens, w, h, out, video_args, audio=True,
                    audio_args=("-c:a", "libopus", "-b:a", "128k"), zoom_max=None):
    """The equivalent ffmpeg job: what Editly-style scripts run underneath (`zoom_max`: Ken
    Burns on every still, `zoompan`)."""
    tf = round(TRANSITION_S * FPS)
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-v", "error"]
    for i, f in enumerate(lens):
        cmd += ["-loop", "1", "-framerate", str(FPS), "-t", f"{f / FPS:.6f}", "-i", str(work / stills[i % len(stills)])]
    n = len(lens)
    graph = []
    for i in range(n):
        # JPEG (full-range BT.601) -> RGB -> Lanczos cover-crop -> BT.709 limited 4:2:0, like samvideo.
        zw, zh = (round(w * zoom_max), round(h * zoom_max)) if zoom_max else (w, h)
        zoom = f"{ken_burns(w, h, zoom_max, lens[i])}," if zoom_max else ""
        graph.append(
            f"[{i}:v]format=rgb24,scale={zw}:{zh}:force_original_aspect_ratio=increase:flags=lanczos,"
            f"crop={zw}:{zh},{zoom}scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,setsar=1[v{i}]"
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
        if ffref is not None:
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
SAMVIDEO = "samvideo (rav1e)"
# A video whose picture moves in at least half its frames goes to SVT-AV1 (docs/encoding-presets.md).
SAMVIDEO_MOVING = "samvideo (SVT-AV1, a moving video)"
LIBRAV1E = "ffmpeg + librav1e"
SVTAV1 = "ffmpeg + libsvtav1"
X264 = "ffmpeg + libx264"
# Run --ref-reps times (e.g. once): reference points and the memory-lean setting, not the comparison
# (SVT-AV1 preset 12 and x264 veryfast are: the pipelines users pick instead, issue 18).
REFERENCE_ROWS = (ONE_ENCODER, "ffmpeg compositing only (y4m, discarded)")


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
        (SAMVIDEO, samvideo_cmd(binary, spec, d / "samvideo.mp4"), d / "samvideo.mp4"),
        (ONE_ENCODER, samvideo_cmd(binary, spec, d / "samvideo-1.mp4", threads=1), d / "samvideo-1.mp4"),
        ("samvideo compositing only (y4m, discarded)", samvideo_cmd(binary, spec, d / "sink.y4m", "y4m"), None,
         d / "sink.y4m"),
        (LIBRAV1E, ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "ffmpeg-rav1e.mp4",
                                              video_args("librav1e", speed, qp)), d / "ffmpeg-rav1e.mp4"),
        (SVTAV1, ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "ffmpeg-svtav1.mp4",
                                               video_args("libsvtav1")), d / "ffmpeg-svtav1.mp4"),
        (X264, ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "ffmpeg-x264.mp4",
                                             video_args("libx264")), d / "ffmpeg-x264.mp4"),
        ("ffmpeg compositing only (y4m, discarded)",
         ffmpeg_pipeline(work, stills, voice, music, lens, w, h, d / "sink.y4m", video_args("y4m"), audio=False), None,
         d / "sink.y4m"),
    ]
    if slow_reps == 0:
        pipes = [p for p in pipes if p[0] != LIBRAV1E]  # --slow-reps 0: ~10 min a run at 720p
    rep_of = {p[0]: reps for p in pipes}
    rep_of[LIBRAV1E] = slow_reps
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
                  for r in sec["rows"] if r["name"] == SAMVIDEO), None)
    if prior is not None:
        samples = run_rounds(pipes[1:], {pipes[1][0]: 1})
        short = {"name": pipes[0][0] + ", runs of the 720p section", "seconds": short_s,
                 **{k: prior[k] for k in ("n", "wall", "cpu", "rss_mb", "bytes", "walls")}}
    else:
        samples = run_rounds(pipes, {pipes[0][0]: reps, pipes[1][0]: 1})
        short = {"name": pipes[0][0], "seconds": short_s, **summarize(samples[pipes[0][0]])}
    return {"rows": [short, {"name": pipes[1][0], "seconds": long_s, **summarize(samples[pipes[1][0]])}]}


# ---------------------------------------------------------------- issue 18 sections
# Each returns {"key", "title", "note", "rows", "bases", "targets", "spec", "load"}: the report
# writes one table with a wall and CPU ratio per base ((row name, column label): the pipeline
# compared with) and one line per target.

WORDS = ("every picture tells a story and this one moves at three words per second across "
         "a short made for phones with captions that follow the voice").split()


def load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def word_transcripts(seconds, per_second=3):
    """One transcript entry per word, back to back (timings used as given: docs/captions.md)."""
    n = int(seconds * per_second)
    return [{"words": WORDS[i % len(WORDS)], "start": round(i / per_second, 3), "end": round((i + 1) / per_second, 3)}
            for i in range(n)]


def compare(pipes, reps, ref=None):
    """Run `pipes` ((name, cmd, out), ...) `reps` times each, interleaved; their rows, with SSIM
    against `ref` (a lossless y4m) when given."""
    samples = run_rounds(pipes, {p[0]: reps for p in pipes})
    rows = []
    for name, cmd, out in pipes:
        row = {"name": name, "cmd": shlex.join(str(c) for c in cmd), **summarize(samples[name])}
        if ref is not None:
            measure_output(row, out, ref, None)
        rows.append(row)
    return rows


def section_dict(key, title, note, rows, bases, targets, spec, load_start):
    return {"key": key, "title": title, "note": note, "rows": rows, "bases": bases, "targets": targets,
            "spec": str(spec), "load": (load_start, load())}


def section_encoders(args, work, binary, inputs, seconds, reps):
    """Encoder against encoder: samvideo's lossless y4m of the standard 720p job into SVT-AV1
    preset 12, x264 veryfast and samvideo's AV1 encoder (re-shows of held stills included)."""
    stills, voice, music = inputs
    l0 = load()
    speed, qp = encoder_presets()["medium"]
    spec, _ = write_spec(work, f"job-medium-{seconds:g}s", stills, voice, music, seconds, "medium")
    d = work / f"encoders-{seconds:g}s"
    d.mkdir(exist_ok=True)
    log(f"section encoders only, {seconds:g} s 720p")
    ref = d / "samvideo-ref.y4m"
    sh(samvideo_cmd(binary, spec, ref, "y4m"))
    from_y4m = lambda kind, out: ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-v", "error", "-i", str(ref)] \
        + video_args(kind) + [str(out)]
    sv = d / "samvideo-av1.mp4"
    pipes = [
        (f"encoder only: samvideo AV1 (rav1e speed {speed}, quantizer {qp}, one encoder)",
         [encode_y4m_binary(args.encode_y4m), "--codec", "av1", "--speed", str(speed), "--quantizer", str(qp),
          str(ref), str(sv)], sv),
        ("encoder only: SVT-AV1 preset 12, CRF 35", from_y4m("libsvtav1", d / "svtav1.mp4"), d / "svtav1.mp4"),
        ("encoder only: x264 veryfast, CRF 23", from_y4m("libx264", d / "x264.mp4"), d / "x264.mp4"),
    ]
    rows = compare(pipes, reps, ref)
    ref.unlink()
    names = [p[0] for p in pipes]
    return section_dict(
        "encoders", f"Encoders only: the standard job's y4m (1280x720, {seconds:g} s)",
        "samvideo's lossless y4m render of the standard job into each encoder alone, MP4 without audio (no "
        "compositing). samvideo's encoder is the `encode_y4m` bench binary: one rav1e context on one thread "
        "(the renderer runs one per core on 10 s segments), a frame equal to the one before handed over as a "
        "repeat, as the renderer does. SSIM-Y against the y4m. Issue 18 asks for these rows, with no target "
        "of their own.",
        rows, [(names[1], "SVT-AV1"), (names[2], "x264")], [], spec, l0)


def section_ken_burns(args, work, binary, inputs, seconds, reps):
    """The standard job with `zoom_effect` on every still against ffmpeg `zoompan` + SVT-AV1 p12."""
    stills, voice, music = inputs
    l0 = load()
    zoom_max = 1.15  # zoom_intensity's default 0.5: 1 + 0.3 * 0.5 (plan/lower/clips.rs)
    spec, lens = write_spec(work, f"job-medium-{seconds:g}s-kenburns", stills, voice, music, seconds, "medium",
                            settings={"zoom_effect": True})
    d = work / f"kenburns-{seconds:g}s"
    d.mkdir(exist_ok=True)
    log(f"section Ken Burns, {seconds:g} s 720p")
    ref = d / "samvideo-ref.y4m"
    sh(samvideo_cmd(binary, spec, ref, "y4m"))
    ff = d / "ffmpeg-svtav1.mp4"
    pipes = [
        (SAMVIDEO_MOVING, samvideo_cmd(binary, spec, d / "samvideo.mp4"), d / "samvideo.mp4"),
        ("ffmpeg + zoompan + libsvtav1", ffmpeg_pipeline(work, stills, voice, music, lens, 1280, 720, ff,
                                                         video_args("libsvtav1"), zoom_max=zoom_max), ff),
    ]
    rows = compare(pipes, reps, ref)
    ref.unlink()
    return section_dict(
        "kenburns", f"Ken Burns: the standard job with `zoom_effect` (1280x720, {seconds:g} s)",
        "Every still zooms in from 1.0 to 1.15 (`zoom_intensity` 0.5, the default) over its clip, so every frame "
        "is distinct. ffmpeg: each still Lanczos-scaled to 1.15x the frame (as samvideo prepares it), then "
        "`zoompan` with the same centred linear zoom (it rounds the crop to whole pixels), the same fades and "
        "audio, SVT-AV1 preset 12 CRF 35. samvideo encodes this moving video with SVT-AV1 (preset 12, CRF 35, "
        "no look-ahead, 8-frame mini-GOPs, one thread per segment). SSIM-Y against samvideo's lossless y4m.",
        rows, [(pipes[1][0], "zoompan + SVT-AV1")], [target(SAMVIDEO_MOVING, "wall", 1.0, pipes[1][0], what="Ken Burns, wall vs ffmpeg zoompan + SVT-AV1 p12")],
        spec, l0)


def section_shorts(args, work, binary, inputs, seconds, reps):
    """1080x1920 `high` with `highlight` captions at 3 words/s against ffmpeg + SVT-AV1 p12 on the
    same stills without captions."""
    stills, voice, music = inputs
    l0 = load()
    spec, lens = write_spec(work, f"job-high-{seconds:g}s-shorts", stills, voice, music, seconds, "high",
                            settings={"aspect_ratio": "9:16", "caption_style": "highlight"},
                            transcripts=word_transcripts(seconds))
    d = work / f"shorts-{seconds:g}s"
    d.mkdir(exist_ok=True)
    log(f"section 1080x1920 captions, {seconds:g} s")
    ff = d / "ffmpeg-svtav1.mp4"
    pipes = [
        (SAMVIDEO + ", highlight captions", samvideo_cmd(binary, spec, d / "samvideo.mp4"), d / "samvideo.mp4"),
        ("ffmpeg + libsvtav1, no captions", ffmpeg_pipeline(work, stills, voice, music, lens, 1080, 1920, ff,
                                                            video_args("libsvtav1")), ff),
    ]
    rows = compare(pipes, reps)
    return section_dict(
        "shorts", f"9:16 Short: 1080x1920 `high`, {seconds:g} s, highlight captions at 3 words/s",
        f"The 10 stills cover-cropped to 1080x1920, fades, voice + music, and `caption_style: highlight` over "
        f"{len(word_transcripts(seconds))} one-word transcript entries (3 words/s, back to back: the picture "
        "changes every 10 frames). The ffmpeg side renders the same stills, fades and audio **without captions** "
        "(burning timed word highlights in with ffmpeg needs an ASS file; leaving them out favours ffmpeg). No "
        "SSIM: the two pictures differ by the captions.",
        rows, [(pipes[1][0], "SVT-AV1")], [target(pipes[0][0], "wall", 1.0, pipes[1][0], what="1080x1920 captions, wall vs ffmpeg + SVT-AV1 p12 (no captions)")],
        spec, l0)


def section_distinct(args, work, binary, inputs, seconds, reps):
    """The same 10 stills over `seconds` and twice that: work should follow distinct pictures."""
    stills, voice, music = inputs
    l0 = load()
    d = work / "distinct"
    d.mkdir(exist_ok=True)
    log(f"section distinct pictures: {seconds:g} s vs {2 * seconds:g} s, 10 stills")
    pipes = []
    for s in (seconds, 2 * seconds):
        spec, _ = write_spec(work, f"job-medium-{s:g}s-10stills", stills, voice, music, s, "medium", count=IMAGE_COUNT)
        pipes.append((f"samvideo {s:g} s, 10 stills", samvideo_cmd(binary, spec, d / f"samvideo-{s:g}.mp4"),
                      d / f"samvideo-{s:g}.mp4"))
    rows = compare(pipes, reps)
    return section_dict(
        "distinct", f"Work follows distinct pictures: 10 stills over {seconds:g} s and {2 * seconds:g} s (720p)",
        "The same 10 stills and 9 fades; in the longer job each still is held twice as long (the voice ends at "
        "29.5 s in both, the music loops). Ratios against the shorter job.",
        rows, [(pipes[0][0], f"{seconds:g} s")], [target(pipes[1][0], "cpu", 1.3, pipes[0][0], what=f"CPU, {2 * seconds:g} s vs {seconds:g} s job")],
        spec, l0)


EXTRA_SECTIONS = {"encoders": section_encoders, "kenburns": section_ken_burns, "shorts": section_shorts,
                  "distinct": section_distinct}


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


def target(row, metric, limit, vs=None, floor=None, what=None):
    """A target of issue 18 (or earlier) on a section's rows: `row`'s `metric` ("wall", "cpu",
    "rss_mb") against `vs`'s (a ratio ≤ `limit`) or, without `vs`, the value itself ≤ `limit`;
    `floor`: the weaker bound that still counts as done."""
    return {"row": row, "metric": metric, "limit": limit, "vs": vs, "floor": floor, "what": what}


def target_line(rows, t):
    rows = {r["name"]: r for r in rows}
    r, b = rows.get(t["row"]), rows.get(t["vs"]) if t["vs"] else None
    if r is None or (t["vs"] and b is None):
        return None
    unit = {"wall": "s wall", "cpu": "CPU s", "rss_mb": "MB peak RSS"}[t["metric"]]
    fmt = (lambda v: f"{v:.0f}") if t["metric"] == "rss_mb" else (lambda v: f"{v:.1f}")
    if b is not None:
        value = r[t["metric"]] / b[t["metric"]]
        shown = f"{fmt(r[t['metric']])} vs {fmt(b[t['metric']])} {unit}: **{value:.2f}x**"
        bound = lambda x: f"≤ {x:g}x"
    else:
        value = r[t["metric"]]
        shown = f"**{fmt(value)} {unit}**"
        bound = lambda x: f"≤ {x:g} {unit.split()[0]}"
    verdict = "met" if value <= t["limit"] else ("floor met" if t["floor"] and value <= t["floor"] else "not met")
    floor = f" (floor {bound(t['floor'])})" if t["floor"] else ""
    what = t["what"] or (f"{t['row']} vs {t['vs']}" if b is not None else t["row"])
    return f"- {what}: {shown} — target {bound(t['limit'])}{floor}: **{verdict}**."


# Issue 18's targets on the standard 720p job (the `720` section).
TARGETS_720 = [
    target(SAMVIDEO, "wall", 0.5, SVTAV1, 0.8, "Wall vs ffmpeg + SVT-AV1 preset 12"),
    target(SAMVIDEO, "wall", 0.5, X264, 0.8, "Wall vs ffmpeg + x264 veryfast"),
    target(SAMVIDEO, "rss_mb", 300, floor=400, what="Peak RSS, default settings (one encoder per core)"),
    target(ONE_ENCODER, "rss_mb", 250, what="Peak RSS, `--threads 1`"),
]
# The 38ac188 baseline of issue 18: SSIM-Y 0.9460 in 3 600 KiB on the standard job.
BASELINE_SSIM, BASELINE_KIB = 0.9460, 3600


def verdicts(res):
    out = []
    secs = res["sections"]
    sec = next((s for s in secs if s["quality"] == "medium"), secs[0] if secs else None)
    if sec:
        rows = {r["name"]: r for r in sec["rows"]}
        sv, ff = rows[SAMVIDEO], rows.get(LIBRAV1E)
        comp = rows["samvideo compositing only (y4m, discarded)"]
        out += [line for t in TARGETS_720 if (line := target_line(sec["rows"], t))]
        size = sv["bytes"] / 1024 / BASELINE_KIB - 1
        same_size = abs(size) <= 0.03
        out.append(f"- Quality ({sec['height']}p): SSIM-Y {sv['ssim_y']:.4f} in {sv['bytes'] / 1024:.0f} KiB against the "
                   f"38ac188 baseline's {BASELINE_SSIM:.4f} in {BASELINE_KIB} KiB ({size * 100:+.1f} % size) — no worse at "
                   f"equal size (±3 %): **{('met' if sv['ssim_y'] >= BASELINE_SSIM else 'not met') if same_size else 'sizes differ by more than 3 %'}**.")
        if ff:
            ratio = sv["wall"] / ff["wall"]
            out.append(f"- Wall time vs ffmpeg + librav1e at the same speed/quantizer ({sec['height']}p): **{ratio:.2f}x** "
                       f"({sv['wall']:.1f} s vs {ff['wall']:.1f} s) — target ≤ 0.80x: **{'met' if ratio <= 0.8 else 'not met'}**.")
            better = sv["ssim_y"] >= ff["ssim_y"] and sv["bytes"] <= ff["bytes"]
            out.append(f"- Quality per byte ({sec['height']}p): samvideo SSIM-Y {sv['ssim_y']:.4f} in {sv['bytes'] / 1024:.0f} KiB, "
                       f"ffmpeg + librav1e {ff['ssim_y']:.4f} in {ff['bytes'] / 1024:.0f} KiB "
                       f"(against its own unencoded frames: {ff['ssim_own_y']:.4f}) — equal or better SSIM in fewer "
                       f"bytes: **{'met' if better else 'not met'}**.")
        share_w = comp["wall"] / sv["wall"]
        share_c = comp["cpu"] / sv["cpu"]
        out.append(f"- Compositing share (samvideo with y4m output discarded vs the full MP4 render): **{share_w * 100:.1f} %** of wall time, "
                   f"{share_c * 100:.1f} % of CPU time — target ≤ 10 %: **{'met' if share_w <= 0.10 else 'not met'}**.")
    if res.get("long"):
        a, b = sorted(res["long"]["rows"], key=lambda r: r["seconds"])
        g = b["rss_mb"] / a["rss_mb"] - 1
        out.append(f"- Memory growth {a['seconds']:g} s → {b['seconds']:g} s: {a['rss_mb']:.0f} MB → {b['rss_mb']:.0f} MB "
                   f"(**{g * 100:+.1f} %**) — target within 10 %: **{'met' if abs(g) <= 0.10 else 'not met'}**.")
    for x in res.get("extra", []):
        out += [line for t in x["targets"] if (line := target_line(x["rows"], t))]
    return out


def extra_section(x):
    """The report of an issue 18 section: its table (a wall ratio per base) and targets."""
    rows = {r["name"]: r for r in x["rows"]}
    ssim = any("ssim_y" in r for r in x["rows"])
    head = ["pipeline", "runs", "wall s", "CPU s", "peak RSS MB", "KiB"] + (["SSIM-Y"] if ssim else []) \
        + [f"wall ratio ({label})" for _, label in x["bases"]] + [f"CPU ratio ({label})" for _, label in x["bases"]]
    L = [f"## {x['title']}", "", x["note"], "",
         f"Load average {x['load'][0]} at the start of the section, {x['load'][1]} at its end. Wall/CPU: medians "
         "(every run's wall in brackets).", ""]
    verdicts = [line for t in x["targets"] if (line := target_line(x["rows"], t))]
    L += verdicts + ([""] if verdicts else []) + ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in x["rows"]:
        cells = [r["name"], str(r["n"]), f"{r['wall']:.1f} ({'/'.join(f'{w:g}' for w in r['walls'])})", f"{r['cpu']:.1f}",
                 f"{r['rss_mb']:.0f}", f"{r['bytes'] / 1024:.0f}" if r.get("bytes") else ""]
        cells += [f"{r['ssim_y']:.4f}" if "ssim_y" in r else ""] if ssim else []
        cells += [f"{r['wall'] / rows[b]['wall']:.2f}" for b, _ in x["bases"]]
        cells += [f"{r['cpu'] / rows[b]['cpu']:.2f}" for b, _ in x["bases"]]
        L.append("| " + " | ".join(cells) + " |")
    L += ["", f"Spec: `{x['spec']}`.", "", "<details><summary>Commands</summary>", "", "```"]
    L += [r["cmd"] for r in x["rows"]]
    return L + ["```", "", "</details>", ""]


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
        base = next((r for r in s["rows"] if r["name"] == LIBRAV1E), None) or next(r for r in s["rows"] if r["name"] == SVTAV1)
        for r in s["rows"]:
            L.append(fmt_row(r, base))
        fy, fa = s["ffmpeg_frames_vs_samvideo_ssim"]
        L += ["", f"Ratios are against {base['name']}. ffmpeg's unencoded frames vs samvideo's: SSIM-Y {fy:.4f} "
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
    for x in res.get("extra", []):
        L += extra_section(x)
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
    ap.add_argument("--sections", default="720,h264,long,1080",
                    help="comma list of 480,720,1080,h264,long and issue 18's " + ",".join(EXTRA_SECTIONS))
    ap.add_argument("--reps-extra", type=int, default=None,
                    help="runs per pipeline in issue 18's sections (default: --reps)")
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
        res["extra"] = [x for x in old.get("extra", []) if x["key"] not in sections]
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
        elif s in EXTRA_SECTIONS:
            reps = args.reps_extra or args.reps
            x = EXTRA_SECTIONS[s](args, args.work, args.samvideo, inputs, args.seconds, reps)
            res["extra"] = [e for e in res.get("extra", []) if e["key"] != s] + [x]
            res["extra"].sort(key=lambda e: list(EXTRA_SECTIONS).index(e["key"]))
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
