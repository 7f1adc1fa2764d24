//! Measurements on 48 kHz samples: the level of one frequency (Goertzel), as an amplitude
//! or in dBFS.

/// The sample rate the measurements assume: what the decode helpers in [`mod@crate::ffmpeg`]
/// return and what samvideo mixes at.
pub const RATE: f64 = 48_000.0;

/// Amplitude of the `freq` component of 48 kHz `samples` (Goertzel): a sine of amplitude A
/// reads ≈ A.
pub fn tone_amp(samples: &[f32], freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / RATE).cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / samples.len() as f64
}

/// Level of `freq` in 48 kHz `samples`, in dBFS of a sine ([`tone_amp`] in dB).
pub fn tone_db(samples: &[f32], freq: f64) -> f64 {
    20.0 * tone_amp(samples, freq).max(1e-12).log10()
}
