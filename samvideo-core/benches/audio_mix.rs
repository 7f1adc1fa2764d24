//! Mixing cost: 60 s of voice + looped music (ducked) + a clip's sound through the whole
//! mixer (envelopes, loop crossfades, ducking detector, limiter), plus the kernels alone and
//! Opus encoding for scale. Run: `cargo bench -p samvideo-core --bench audio_mix`.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use samvideo_core::audio::kernels::{mix_into, mix_into_gains, Limiter};
use samvideo_core::audio::{Ducking, MixSpec, Mixer, OpusEncoder, Pcm, TrackRole, TrackSpec, SAMPLE_RATE};

/// A tone switched on and off every 0.7 s (speech-like activity for the ducker).
fn source(freq: f32, secs: f32, amp: f32, gated: bool) -> Arc<Pcm> {
    let rate = SAMPLE_RATE as f32;
    let n = (secs * rate) as usize;
    let samples = (0..n)
        .flat_map(|i| {
            let t = i as f32 / rate;
            let on = !gated || ((t / 0.7) as u32).is_multiple_of(2);
            let v = if on { amp * (std::f32::consts::TAU * freq * t).sin() } else { 0.0 };
            [v, v * 0.9]
        })
        .collect();
    Arc::new(Pcm { samples })
}

fn spec() -> MixSpec {
    let mut voice = TrackSpec::new(TrackRole::Voice, 1.0);
    voice.fade_in = 0.1;
    let mut music = TrackSpec::new(TrackRole::Music, 0.0);
    music.looped = true;
    music.gain = 0.5;
    music.fade_in = 2.0;
    music.fade_out = 3.0;
    let mut clip = TrackSpec::new(TrackRole::ClipSound, 20.0);
    clip.gain = 0.8;
    MixSpec { duration: 60.0, tracks: vec![voice, music, clip], ducking: Some(Ducking::default()) }
}

fn bench_mix(c: &mut Criterion) {
    let sources =
        vec![source(220.0, 55.0, 0.5, true), source(440.0, 17.3, 0.6, false), source(880.0, 10.0, 0.7, false)];
    let mut g = c.benchmark_group("audio_mix");
    g.sample_size(10);
    g.throughput(Throughput::Elements(60 * u64::from(SAMPLE_RATE)));
    g.bench_function("mix_60s_3_tracks_ducked_limited", |b| {
        let mut buf = vec![0.0f32; 4096 * 2];
        b.iter(|| {
            let mut mixer = Mixer::new(spec(), sources.clone());
            let mut frames = 0;
            loop {
                let n = mixer.fill(&mut buf);
                if n == 0 {
                    break;
                }
                frames += n;
            }
            black_box((frames, buf[0]))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("audio_kernels_1024_frames");
    g.throughput(Throughput::Elements(1024));
    let src = vec![0.25f32; 2048];
    let gains = vec![0.5f32; 1024];
    let mut dst = vec![0.0f32; 2048];
    g.bench_function("mix_into", |b| b.iter(|| mix_into(black_box(&mut dst), black_box(&src), 0.7)));
    g.bench_function("mix_into_gains", |b| {
        b.iter(|| mix_into_gains(black_box(&mut dst), black_box(&src), black_box(&gains)))
    });
    let mut lim = Limiter::new(0.89, 240, 0.15, SAMPLE_RATE);
    let loud: Vec<f32> = (0..2048).map(|i| 1.5 * (i as f32 * 0.05).sin()).collect();
    g.bench_function("limiter", |b| {
        b.iter(|| {
            dst.copy_from_slice(&loud);
            lim.process(black_box(&mut dst));
        })
    });
    g.finish();

    let mut g = c.benchmark_group("audio_opus");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10 * u64::from(SAMPLE_RATE)));
    let ten = source(440.0, 10.0, 0.5, true);
    g.bench_function("encode_10s_128k", |b| {
        b.iter(|| {
            let mut enc = OpusEncoder::new(128_000).expect("bitrate in range");
            let mut n = enc.encode(&ten.samples).expect("encodes").len();
            n += enc.finish().expect("finishes").len();
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_mix);
criterion_main!(benches);
