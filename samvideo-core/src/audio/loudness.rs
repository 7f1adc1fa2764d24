//! Platform loudness (`settings.normalize_audio`): the mix is measured once (integrated
//! loudness per EBU R128 / ITU-R BS.1770, through the `ebur128` crate) and played again with
//! the gain that brings it to [`TARGET_LUFS`], through the mixer's limiter set low enough
//! that the encoded file's true peak stays at or below [`TARGET_TRUE_PEAK_DBTP`].
//!
//! Enter: a [`Mixer`] to measure (it is consumed). Leave: the linear gain for a second
//! mixer of the same spec ([`Mixer::set_master`]).

use ebur128::{EbuR128, Mode};

use super::{AudioError, Mixer, CHANNELS, SAMPLE_RATE};

/// What YouTube, TikTok and Instagram normalize to.
pub const TARGET_LUFS: f64 = -14.0;
/// The true-peak ceiling those platforms ask for.
pub const TARGET_TRUE_PEAK_DBTP: f64 = -1.0;
/// The limiter's sample ceiling when normalizing: 1.5 dB below the true-peak target leaves room
/// for inter-sample peaks and the encoders' overshoot (measured in `tests/it/audio.rs` with a
/// -2 dB ceiling: Opus files peaked at -1.9 dBTP, AAC files at -1.1).
pub const NORMALIZED_CEILING_DB: f64 = -2.5;
/// The most a quiet mix is raised (+24 dB): near-silence is not amplified into noise.
pub const MAX_NORMALIZE_GAIN_DB: f64 = 24.0;

/// Integrated loudness of everything `mixer` plays, in LUFS; `None` for silence (every
/// block under the absolute gate).
pub fn integrated_loudness(mut mixer: Mixer) -> Result<Option<f64>, AudioError> {
    let meter_err = |e: ebur128::Error| AudioError::Loudness(e.to_string());
    let mut meter = EbuR128::new(CHANNELS as u32, SAMPLE_RATE, Mode::I).map_err(meter_err)?;
    let mut buf = vec![0.0f32; 4800 * CHANNELS];
    loop {
        let n = mixer.fill(&mut buf);
        if n == 0 {
            break;
        }
        meter.add_frames_f32(&buf[..n * CHANNELS]).map_err(meter_err)?;
    }
    let lufs = meter.loudness_global().map_err(meter_err)?;
    Ok(lufs.is_finite().then_some(lufs))
}

/// The linear gain that takes a mix measured at `lufs` to [`TARGET_LUFS`] (capped at
/// [`MAX_NORMALIZE_GAIN_DB`]; 1 for silence).
pub fn gain_to_target(lufs: Option<f64>) -> f32 {
    match lufs {
        Some(l) => 10f64.powf((TARGET_LUFS - l).min(MAX_NORMALIZE_GAIN_DB) / 20.0) as f32,
        None => 1.0,
    }
}

/// The next gain when a mix played at `gain` measured `lufs`: moved by the remaining
/// difference, never above [`MAX_NORMALIZE_GAIN_DB`] in total.
pub fn refine_gain(gain: f32, lufs: f64) -> f32 {
    let db = 20.0 * f64::from(gain).log10() + (TARGET_LUFS - lufs);
    10f64.powf(db.min(MAX_NORMALIZE_GAIN_DB) / 20.0) as f32
}

/// [`NORMALIZED_CEILING_DB`] as a linear sample value.
pub fn normalized_ceiling() -> f32 {
    10f64.powf(NORMALIZED_CEILING_DB / 20.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_reaches_the_target_and_is_capped() {
        assert!((gain_to_target(Some(-20.0)) - 10f32.powf(6.0 / 20.0)).abs() < 1e-6);
        assert!((gain_to_target(Some(-8.0)) - 10f32.powf(-6.0 / 20.0)).abs() < 1e-6);
        assert!((gain_to_target(Some(-70.0)) - 10f32.powf(24.0 / 20.0)).abs() < 1e-5);
        assert_eq!(gain_to_target(None), 1.0);
    }
}
