//! The output frame rate as an exact fraction: whole rates (`30` = 30/1) and the NTSC rates
//! (`29.97` = 30000/1001).
//!
//! Enter: a JSON number from `settings.fps` / `output_settings.framerate`, through
//! [`FrameRate::from_number`] (the one place that says which numbers are rates). Leave: the
//! frame ↔ time conversions every stage uses (lowering, compositor, segment split, encoder
//! time base, MP4 timescale, audio interleave), so no stage divides by a rounded `f64`.
//! Imports nothing from the crate.

use std::fmt;

/// The NTSC rates accepted besides whole numbers, as written in requests and their exact
/// numerators (the denominator is 1001).
pub const NTSC_RATES: [(&str, u32); 3] = [("23.976", 24_000), ("29.97", 30_000), ("59.94", 60_000)];

/// How far a request's number may be from an NTSC rate and still mean it (`23.98` and
/// `23.976` both mean 24000/1001; `29.9` does not).
pub(crate) const NTSC_TOLERANCE: f64 = 0.005;

/// Frames per second, `num / den` (reduced; `den` is 1 or 1001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u32,
    den: u32,
}

impl FrameRate {
    /// A whole rate (`fps` > 0).
    ///
    /// ```
    /// use samvideo_core::FrameRate;
    /// assert_eq!(FrameRate::whole(30).frames_in(2.0), 60);
    /// ```
    pub const fn whole(fps: u32) -> FrameRate {
        assert!(fps > 0, "a frame rate is positive");
        FrameRate { num: fps, den: 1 }
    }

    /// The rate a request's number names: a whole number, or within 0.005 of 23.976, 29.97 or
    /// 59.94. `None` for anything else (the caller's message lists what is accepted).
    ///
    /// ```
    /// use samvideo_core::FrameRate;
    /// assert_eq!(FrameRate::from_number(29.97).map(|r| r.as_fraction()), Some((30_000, 1001)));
    /// assert_eq!(FrameRate::from_number(25.0).map(|r| r.as_fraction()), Some((25, 1)));
    /// assert_eq!(FrameRate::from_number(29.5), None);
    /// ```
    pub fn from_number(x: f64) -> Option<FrameRate> {
        if !x.is_finite() || x <= 0.0 {
            return None;
        }
        if x.fract() == 0.0 {
            return (x <= f64::from(u32::MAX)).then_some(FrameRate { num: x as u32, den: 1 });
        }
        NTSC_RATES
            .iter()
            .find(|(_, num)| (x - f64::from(*num) / 1001.0).abs() < NTSC_TOLERANCE)
            .map(|&(_, num)| FrameRate { num, den: 1001 })
    }

    /// `(numerator, denominator)`.
    pub fn as_fraction(self) -> (u32, u32) {
        (self.num, self.den)
    }

    /// Frames per second as a float (for display and for probing tolerances).
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Whether this is a whole number of frames per second.
    pub fn is_whole(self) -> bool {
        self.den == 1
    }

    /// The nearest frame count to `secs` seconds (negative times are 0).
    pub fn frames_in(self, secs: f64) -> u64 {
        (secs * self.as_f64()).round().max(0.0) as u64
    }

    /// The smallest frame count that lasts at least `secs` seconds.
    pub fn frames_covering(self, secs: f64) -> u64 {
        (secs * self.as_f64()).ceil().max(0.0) as u64
    }

    /// When frame `n` starts, in seconds.
    pub fn secs_of(self, n: u64) -> f64 {
        n as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// How many `per_second`-rate ticks (audio samples, timescale units) have passed when
    /// frame `n` starts, rounded down; exact integer arithmetic.
    pub fn ticks_at(self, n: u64, per_second: u64) -> u64 {
        (u128::from(n) * u128::from(per_second) * u128::from(self.den) / u128::from(self.num)) as u64
    }
}

impl fmt::Display for FrameRate {
    /// `30` or `29.97`: as a request would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NTSC_RATES.iter().find(|(_, num)| self.den == 1001 && *num == self.num) {
            Some((text, _)) => f.write_str(text),
            None if self.den == 1 => write!(f, "{}", self.num),
            None => write!(f, "{}/{}", self.num, self.den),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_map_to_exact_rates() {
        for (x, want) in [
            (15.0, Some((15, 1))),
            (60.0, Some((60, 1))),
            (23.976, Some((24_000, 1001))),
            (23.98, Some((24_000, 1001))),
            (29.97, Some((30_000, 1001))),
            (29.97003, Some((30_000, 1001))),
            (59.94, Some((60_000, 1001))),
            (29.9, None),
            (29.5, None),
            (24.5, None),
            (f64::NAN, None),
            (-30.0, None),
        ] {
            assert_eq!(FrameRate::from_number(x).map(FrameRate::as_fraction), want, "{x}");
        }
    }

    #[test]
    fn conversions_are_exact_at_ntsc() {
        let r = FrameRate::from_number(29.97).expect("rate");
        // 1001 s of 29.97 fps video is exactly 30000 frames.
        assert_eq!(r.frames_in(1001.0), 30_000);
        assert_eq!(r.secs_of(30_000), 1001.0);
        // 48 kHz audio at frame 30000: 1001 s.
        assert_eq!(r.ticks_at(30_000, 48_000), 1001 * 48_000);
        assert_eq!(r.ticks_at(1, 48_000), 1601); // 1601.6 rounded down
        assert_eq!(r.frames_covering(10.0), 300);
        assert_eq!(r.frames_in(10.0), 300);
        assert_eq!(r.to_string(), "29.97");
        assert_eq!(FrameRate::whole(30).to_string(), "30");
    }
}
