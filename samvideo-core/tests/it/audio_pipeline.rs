//! The audio pipeline as a user hears it: files made by ffmpeg decode to the right length,
//! rate and tone; the mixer's gains, fades, loops, ducking and limiter measure as documented
//! (docs/audio.md); Opus packets decode back (through ffmpeg) to the tone that went in.
//!
//! Needs `ffmpeg` and `ffprobe` on PATH (with libmp3lame and libvorbis, as Debian ships it).

use std::path::Path;
use std::sync::Arc;

use samvideo_core::audio::{
    decode_audio, decode_audio_with, DecodeOptions, Ducking, MixSpec, Mixer, OpusEncoder, Pcm, TrackRole, TrackSpec,
    LIMITER_CEILING, OPUS_FRAME_SAMPLES, SAMPLE_RATE,
};
use samvideo_core::media::MediaError;
use samvideo_test_support::{audio_f32, ffmpeg, ffmpeg_file, ffprobe_csv, tone_amp};

const RATE: f64 = SAMPLE_RATE as f64;

// ---------------------------------------------------------------- helpers

/// A 440 Hz mono tone at 44.1 kHz, 2 s, in the container/codec given.
fn tone_file(dir: &Path, ext: &str, codec: &[&str]) -> Vec<u8> {
    let mut args = vec!["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-ac", "1", "-ar", "44100"];
    args.extend_from_slice(codec);
    ffmpeg_file(dir, &format!("tone.{ext}"), &args)
}

/// One channel (0 = left) of interleaved stereo, over `[t0, t1)` seconds.
fn channel(samples: &[f32], ch: usize, t0: f64, t1: f64) -> Vec<f32> {
    let a = (t0 * RATE) as usize;
    let b = ((t1 * RATE) as usize).min(samples.len() / 2);
    (a..b).map(|i| samples[2 * i + ch]).collect()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// Interleaved stereo sine (same in both channels).
fn sine(freq: f64, amp: f32, secs: f64) -> Arc<Pcm> {
    let n = (secs * RATE).round() as usize;
    let samples = (0..n)
        .flat_map(|i| {
            let v = amp * (2.0 * std::f64::consts::PI * freq * i as f64 / RATE).sin() as f32;
            [v, v]
        })
        .collect();
    Arc::new(Pcm { samples })
}

fn render(spec: MixSpec, sources: Vec<Arc<Pcm>>, chunk_frames: usize) -> Vec<f32> {
    let mut mixer = Mixer::new(spec, sources);
    let mut out = Vec::with_capacity(mixer.total_frames() as usize * 2);
    let mut buf = vec![0.0f32; chunk_frames * 2];
    loop {
        let n = mixer.fill(&mut buf);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n * 2]);
    }
    out
}

fn max_jump(samples: &[f32], ch: usize) -> f32 {
    samples
        .chunks_exact(2)
        .map(|f| f[ch])
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

// ---------------------------------------------------------------- decode

/// Every supported format decodes a 2 s 440 Hz tone (ffmpeg's sine, amplitude 1/8) from
/// 44.1 kHz mono to 2 s of 48 kHz stereo at the same pitch and level, starting on time
/// (AAC priming and MP3/Vorbis delay trimmed).
#[test]
fn every_format_decodes_to_48k_stereo_with_the_right_length_pitch_and_level() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 5] = [
        ("mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]),
        ("m4a", &["-c:a", "aac", "-b:a", "128k"]),
        ("wav", &["-c:a", "pcm_s16le"]),
        ("flac", &["-c:a", "flac"]),
        ("ogg", &["-c:a", "libvorbis", "-q:a", "5"]),
    ];
    for (ext, codec) in cases {
        let bytes = tone_file(dir.path(), ext, codec);
        let pcm = decode_audio(&bytes, Some(ext)).unwrap_or_else(|e| panic!("{ext}: {e}"));
        // Length: 2 s within 3 ms.
        let err_ms = (pcm.duration_secs() - 2.0).abs() * 1000.0;
        assert!(err_ms <= 3.0, "{ext}: {} s ({err_ms:.1} ms off)", pcm.duration_secs());
        // Mono was copied to both sides.
        assert!(pcm.samples.chunks_exact(2).all(|f| f[0] == f[1]), "{ext}: L != R");
        // Pitch and level: 440 Hz at 1/8 full scale (±0.5 dB), nothing at 880 Hz, and the
        // pitch really is 440 (a missing resample would put it at 479 Hz).
        let mid = channel(&pcm.samples, 0, 0.5, 1.5);
        let a440 = tone_amp(&mid, 440.0);
        assert!(db(a440 / 0.125).abs() < 0.75, "{ext}: 440 Hz at {:.2} dB", db(a440 / 0.125));
        assert!(tone_amp(&mid, 880.0) < 0.125 * 0.01, "{ext}: energy at 880 Hz");
        assert!(tone_amp(&mid, 479.0) < 0.125 * 0.01, "{ext}: energy at 479 Hz");
        // Onset: the tone starts within 3 ms of t = 0 (priming/delay trimmed).
        let first = pcm.samples.iter().position(|v| v.abs() > 0.03).unwrap() / 2;
        assert!((first as f64 / RATE) < 0.003, "{ext}: first sound at {:.1} ms", first as f64 / RATE * 1000.0);
        eprintln!(
            "{ext}: {:.4} s, onset {:.2} ms, 440 Hz {:+.2} dB",
            pcm.duration_secs(),
            first as f64 / RATE * 1000.0,
            db(a440 / 0.125)
        );
        // And ends on time: the last 10 ms still carry the tone.
        let tail = channel(&pcm.samples, 0, pcm.duration_secs() - 0.01, pcm.duration_secs());
        assert!(rms(&tail) > 0.06, "{ext}: tail rms {}", rms(&tail));
    }
}

/// A stereo 48 kHz file keeps its channels apart: 440 Hz left, 1 kHz right.
#[test]
fn stereo_file_keeps_left_and_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lr.flac");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:duration=1",
        "-filter_complex",
        "[0:a][1:a]join=inputs=2:channel_layout=stereo",
        "-ar",
        "48000",
        path.to_str().unwrap(),
    ]);
    let pcm = decode_audio(&std::fs::read(&path).unwrap(), None).unwrap();
    assert_eq!(pcm.frames(), 48_000);
    let l = channel(&pcm.samples, 0, 0.2, 0.8);
    let r = channel(&pcm.samples, 1, 0.2, 0.8);
    assert!(tone_amp(&l, 440.0) > 0.1 && tone_amp(&l, 1000.0) < 0.001);
    assert!(tone_amp(&r, 1000.0) > 0.1 && tone_amp(&r, 440.0) < 0.001);
}

/// Bad input is an error that says what is wrong; over-long input hits the limit.
#[test]
fn bad_and_overlong_input_are_refused_clearly() {
    let err = decode_audio(b"<html>not found</html>", Some("mp3")).unwrap_err();
    assert_eq!(err, MediaError::Decode("not a supported audio file".into()));

    let dir = tempfile::tempdir().unwrap();
    let bytes = tone_file(dir.path(), "m4a", &["-c:a", "aac"]);
    // Cut in the middle of the media data: what is there decodes, or a clear error; no panic.
    match decode_audio(&bytes[..bytes.len() / 2], Some("m4a")) {
        Ok(pcm) => assert!(pcm.duration_secs() <= 2.01),
        Err(e) => assert!(matches!(e, MediaError::Decode(_)), "{e:?}"),
    }
    // Random bytes after a valid header.
    let mut noisy = bytes.clone();
    for (i, b) in noisy.iter_mut().enumerate().skip(2000) {
        *b = (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0];
    }
    let _ = decode_audio(&noisy, None); // must return, Ok or Err

    let opts = DecodeOptions { max_seconds: 1.0, stop_after_seconds: None };
    let err = decode_audio_with(&bytes, None, &opts).unwrap_err();
    assert!(matches!(&err, MediaError::Limit(m) if m.contains("1 s")), "{err:?}");
    let opts = DecodeOptions { max_seconds: 1.0, stop_after_seconds: Some(0.5) };
    let pcm = decode_audio_with(&bytes, None, &opts).unwrap();
    assert_eq!(pcm.frames(), 24_000);
}

// ---------------------------------------------------------------- mix

fn music(start: f64) -> TrackSpec {
    TrackSpec::new(TrackRole::Music, start)
}

/// A 440 Hz voice at gain 1.0 and 880 Hz music at gain 0.25 sit 12 dB apart.
#[test]
fn gains_set_levels_per_band() {
    let mut m = music(0.0);
    m.gain = 0.25;
    let spec = MixSpec { duration: 2.0, tracks: vec![TrackSpec::new(TrackRole::Voice, 0.0), m], ducking: None };
    let out = render(spec, vec![sine(440.0, 0.4, 2.0), sine(880.0, 0.4, 2.0)], 1024);
    let mid = channel(&out, 0, 0.5, 1.5);
    let (v, mu) = (tone_amp(&mid, 440.0), tone_amp(&mid, 880.0));
    assert!((db(v / mu) - 12.04).abs() < 0.2, "{:.2} dB apart", db(v / mu));
    assert!((v - 0.4).abs() < 0.004, "voice level {v}");
}

/// Fades are equal-power: silent at the edge, -3 dB halfway, unity after; same on the way out.
#[test]
fn fade_in_and_out_shapes() {
    let mut m = music(0.0);
    m.fade_in = 1.0;
    m.fade_out = 1.0;
    let spec = MixSpec { duration: 4.0, tracks: vec![m], ducking: None };
    let out = render(spec, vec![sine(1000.0, 0.5, 10.0)], 512);
    assert_eq!(out.len(), 4 * 48_000 * 2);
    let level = |t: f64| db(tone_amp(&channel(&out, 0, t - 0.01, t + 0.01), 1000.0) / 0.5);
    assert!(level(0.011) < -20.0, "start {:.1} dB", level(0.011));
    assert!((level(0.5) + 3.0).abs() < 0.3, "fade-in middle {:.2} dB", level(0.5));
    assert!(level(1.5).abs() < 0.1, "after fade-in {:.2} dB", level(1.5));
    assert!(level(2.5).abs() < 0.1, "before fade-out {:.2} dB", level(2.5));
    assert!((level(3.5) + 3.0).abs() < 0.3, "fade-out middle {:.2} dB", level(3.5));
    assert!(level(3.989) < -20.0, "end {:.1} dB", level(3.989));
    // Monotonic rise across the fade-in (10 ms steps).
    let steps: Vec<f64> = (1..100).map(|i| rms(&channel(&out, 0, i as f64 * 0.01, i as f64 * 0.01 + 0.01))).collect();
    assert!(steps.windows(2).all(|w| w[1] >= w[0] - 1e-4));
}

/// A 0.37 s music clip looped fills a 3 s video with no click at the seams.
#[test]
fn short_music_loops_to_fill_without_clicks() {
    let mut m = music(0.0);
    m.looped = true;
    let spec = MixSpec { duration: 3.0, tracks: vec![m], ducking: None };
    let src = sine(440.0, 0.5, 0.37);
    let out = render(spec, vec![src], 4096);
    assert_eq!(out.len(), 3 * 48_000 * 2);
    // Sound everywhere (10 ms windows, past the 5 ms de-click at the start and end).
    for i in 1..299 {
        let w = channel(&out, 0, i as f64 * 0.01, i as f64 * 0.01 + 0.01);
        assert!(rms(&w) > 0.1, "gap at {} s: rms {}", i as f64 * 0.01, rms(&w));
    }
    // A 0.5-amplitude 440 Hz sine moves at most 0.029 per sample; a hard seam would jump
    // by up to 1.0. Allow the crossfade's own slope on top.
    let jump = max_jump(&out, 0);
    assert!(jump < 0.045, "max sample-to-sample jump {jump}");
    // Without the crossfade the same loop does click: the test can see a seam.
    let raw: Vec<f32> = (0..3 * 48_000)
        .map(|i| {
            let s = (i % 17_760) as f64;
            (0.5 * (2.0 * std::f64::consts::PI * 440.0 * s / RATE).sin()) as f32
        })
        .flat_map(|v| [v, v])
        .collect();
    assert!(max_jump(&raw, 0) > 0.1);
    // Level stays at the source level overall.
    let all = channel(&out, 0, 0.1, 2.9);
    assert!(db(tone_amp(&all, 440.0) / 0.5).abs() < 1.0);
}

/// Music (880 Hz) dips by the documented 12 dB while the voice (440 Hz) speaks from 2 s to
/// 4 s, is already down when the voice starts, and comes back after the release.
#[test]
fn music_ducks_under_voice_and_recovers() {
    let mut voice = TrackSpec::new(TrackRole::Voice, 2.0);
    voice.length = Some(2.0);
    let spec = MixSpec { duration: 6.0, tracks: vec![voice, music(0.0)], ducking: Some(Ducking::default()) };
    let out = render(spec, vec![sine(440.0, 0.3, 5.0), sine(880.0, 0.3, 6.0)], 1000);
    let music_db = |t0: f64, t1: f64| db(tone_amp(&channel(&out, 0, t0, t1), 880.0) / 0.3);
    assert!(music_db(0.5, 1.5).abs() < 0.1, "before voice {:.2} dB", music_db(0.5, 1.5));
    let ducked = music_db(2.5, 3.8);
    assert!((ducked + 12.0).abs() < 0.5, "under voice {ducked:.2} dB");
    assert!(music_db(2.0, 2.1) < -9.0, "dip late at voice start: {:.2} dB", music_db(2.0, 2.1));
    assert!(music_db(5.2, 6.0).abs() < 0.3, "after release {:.2} dB", music_db(5.2, 6.0));
    // The voice itself is untouched.
    assert!(db(tone_amp(&channel(&out, 0, 2.5, 3.8), 440.0) / 0.3).abs() < 0.1);
    // The dip is smooth: no click in the music band.
    assert!(max_jump(&out, 0) < 0.08);
    // Without ducking the music stays at full level under the voice.
    let mut voice = TrackSpec::new(TrackRole::Voice, 2.0);
    voice.length = Some(2.0);
    let spec = MixSpec { duration: 6.0, tracks: vec![voice, music(0.0)], ducking: None };
    let out = render(spec, vec![sine(440.0, 0.3, 5.0), sine(880.0, 0.3, 6.0)], 1000);
    assert!(db(tone_amp(&channel(&out, 0, 2.5, 3.8), 880.0) / 0.3).abs() < 0.1);
}

/// Two full-scale sines summed never exceed full scale (the ceiling is -1 dBFS), stay loud
/// and have no steps.
#[test]
fn limiter_keeps_loud_sums_under_full_scale_and_continuous() {
    let spec =
        MixSpec { duration: 3.0, tracks: vec![TrackSpec::new(TrackRole::Voice, 0.0), music(0.0)], ducking: None };
    let out = render(spec, vec![sine(440.0, 1.0, 3.0), sine(660.0, 1.0, 3.0)], 960);
    let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    const { assert!(LIMITER_CEILING < 1.0) };
    assert!(peak <= LIMITER_CEILING, "peak {peak}");
    assert!(peak > 0.85, "limiter over-reduces: peak {peak}");
    // Continuous: the steepest step is what the two tones' own slopes allow.
    let bound = 2.0 * std::f32::consts::PI * (440.0 + 660.0) / 48_000.0;
    assert!(max_jump(&out, 0) < bound, "jump {}", max_jump(&out, 0));
    // No dropouts: every 10 ms window stays loud.
    for i in 1..299 {
        let w = channel(&out, 0, i as f64 * 0.01, i as f64 * 0.01 + 0.01);
        assert!(rms(&w) > 0.25, "dropout at {} s", i as f64 * 0.01);
    }
    // Both tones survive at equal level.
    let mid = channel(&out, 0, 1.0, 2.0);
    assert!(db(tone_amp(&mid, 440.0) / tone_amp(&mid, 660.0)).abs() < 0.5);
}

/// The output does not depend on how the caller slices it.
#[test]
fn streaming_is_independent_of_chunk_size() {
    let spec = || {
        let mut voice = TrackSpec::new(TrackRole::Voice, 0.3);
        voice.fade_in = 0.2;
        let mut m = music(0.0);
        m.looped = true;
        m.fade_out = 0.5;
        m.gain = 0.8;
        MixSpec { duration: 2.5, tracks: vec![voice, m], ducking: Some(Ducking::default()) }
    };
    let sources = || vec![sine(300.0, 0.7, 1.5), sine(500.0, 0.9, 0.61)];
    let a = render(spec(), sources(), 1);
    let b = render(spec(), sources(), 1024);
    let c = render(spec(), sources(), 48_000 * 3);
    assert_eq!(a.len(), 2 * 120_000);
    assert_eq!(a, b);
    assert_eq!(b, c);
}

// ---------------------------------------------------------------- opus

/// 2 s of a 1 kHz tone through the encoder, written as Ogg Opus with the encoder's pre-skip,
/// decodes in ffmpeg to exactly 2 s of 48 kHz stereo at the same pitch and level, time-aligned.
#[test]
fn opus_packets_decode_in_ffmpeg_to_the_same_tone() {
    let pcm = sine(1000.0, 0.5, 2.0);
    let mut enc = OpusEncoder::new(128_000).unwrap();
    let pre_skip = enc.pre_skip();
    assert_eq!(pre_skip, 312);
    let mut packets = Vec::new();
    for chunk in pcm.samples.chunks(2 * 1234) {
        packets.extend(enc.encode(chunk).unwrap());
    }
    let input_frames = enc.input_frames();
    packets.extend(enc.finish().unwrap());
    assert_eq!(input_frames, 96_000);
    assert_eq!(packets.len() as u64, (312 + 96_000u64).div_ceil(960));
    assert!(packets.iter().all(|p| p.samples as usize == OPUS_FRAME_SAMPLES));
    let bytes: usize = packets.iter().map(|p| p.data.len()).sum();
    let kbps = bytes as f64 * 8.0 / 2.0 / 1000.0;
    assert!((64.0..200.0).contains(&kbps), "{kbps} kb/s");

    // Ogg Opus with the same pre-skip and an end trim at pre_skip + input.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.opus");
    {
        let head = opus_pure::OpusHead { pre_skip, ..opus_pure::OpusHead::new(2, 48_000).unwrap() };
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut w = opus_pure::OggOpusWriter::new(file, head).unwrap();
        let final_granule = u64::from(pre_skip) + input_frames;
        let last = packets.len() - 1;
        for (i, p) in packets.iter().enumerate() {
            if i == last {
                let dur = final_granule - w.granule() as u64;
                w.write_packet_with_duration(&p.data, dur as u32).unwrap();
            } else {
                w.write_packet(&p.data).unwrap();
            }
        }
        w.finish().unwrap();
    }
    assert_eq!(ffprobe_csv(&path, "a:0", "stream=codec_name,sample_rate,channels"), "opus,48000,2");
    let decoded = audio_f32(&path, 2, None);
    assert_eq!(decoded.len(), 96_000 * 2, "decoded length");
    let mid = channel(&decoded, 0, 0.5, 1.5);
    assert!(db(tone_amp(&mid, 1000.0) / 0.5).abs() < 0.3);
    // Time-aligned: sample-by-sample SNR against the input with no lag search.
    let orig = channel(&pcm.samples, 0, 0.5, 1.5);
    let noise: f64 = orig.iter().zip(&mid).map(|(a, b)| f64::from(a - b).powi(2)).sum();
    let signal: f64 = orig.iter().map(|a| f64::from(*a).powi(2)).sum();
    let snr = 10.0 * (signal / noise).log10();
    assert!(snr > 30.0, "SNR {snr:.1} dB");
}
