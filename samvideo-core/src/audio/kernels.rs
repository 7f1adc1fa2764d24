//! The mixer's inner loops: small functions over plain interleaved-stereo slices.
//!
//! Every function here takes `f32` slices and a few scalars, allocates nothing and has no
//! state beyond its arguments (except [`Limiter`], whose state is fixed-size and allocated
//! once). `benches/audio_mix.rs` measures them through the [`super::Mixer`]. "Frame" means one
//! `L, R` pair; per-frame gain slices have one entry per frame.

use std::f32::consts::FRAC_PI_2;

/// `dst += src * gain`, sample by sample (lengths: the shorter of the two).
#[inline]
pub fn mix_into(dst: &mut [f32], src: &[f32], gain: f32) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s * gain;
    }
}

/// `dst[frame] += src[frame] * gains[frame]` for interleaved stereo with one gain per frame.
#[inline]
pub fn mix_into_gains(dst: &mut [f32], src: &[f32], gains: &[f32]) {
    for ((d, s), g) in dst.chunks_exact_mut(2).zip(src.chunks_exact(2)).zip(gains) {
        d[0] += s[0] * g;
        d[1] += s[1] * g;
    }
}

/// Multiplies interleaved stereo `buf` by one gain per frame.
#[inline]
pub fn apply_gains(buf: &mut [f32], gains: &[f32]) {
    for (d, g) in buf.chunks_exact_mut(2).zip(gains) {
        d[0] *= g;
        d[1] *= g;
    }
}

/// Multiply every sample by `gain` (nothing to do, and not touched, at unity).
pub fn scale(buf: &mut [f32], gain: f32) {
    if gain != 1.0 {
        for s in buf {
            *s *= gain;
        }
    }
}

/// Equal-power fade curve: `sin(x · π/2)` for `x` in 0..=1 (0 → silent, 0.5 → -3 dB, 1 → unity).
#[inline]
pub fn equal_power(x: f32) -> f32 {
    (x.clamp(0.0, 1.0) * FRAC_PI_2).sin()
}

/// Multiplies each entry of `gains` by an equal-power ramp: entry `i` gets
/// `equal_power((x0 + i·dx))`. A fade-in uses `dx > 0`, a fade-out a falling `x`.
#[inline]
pub fn apply_ramp(gains: &mut [f32], x0: f64, dx: f64) {
    for (i, g) in gains.iter_mut().enumerate() {
        *g *= equal_power((x0 + i as f64 * dx) as f32);
    }
}

/// Equal-power crossfade of interleaved stereo: frame `i` of `dst` becomes
/// `out_src[i]·cos + in_src[i]·sin` at fade position `x0 + i·dx` (0 = all `out_src`).
#[inline]
pub fn crossfade(dst: &mut [f32], out_src: &[f32], in_src: &[f32], x0: f64, dx: f64) {
    let frames = dst.len().min(out_src.len()).min(in_src.len()) / 2;
    for i in 0..frames {
        let x = (x0 + i as f64 * dx).clamp(0.0, 1.0) as f32;
        let g_in = equal_power(x);
        let g_out = equal_power(1.0 - x);
        dst[2 * i] = out_src[2 * i] * g_out + in_src[2 * i] * g_in;
        dst[2 * i + 1] = out_src[2 * i + 1] * g_out + in_src[2 * i + 1] * g_in;
    }
}

/// Per-frame mean square of interleaved stereo (`(L² + R²) / 2`), written to `out`.
#[inline]
pub fn frame_power(src: &[f32], out: &mut [f32]) {
    for (o, s) in out.iter_mut().zip(src.chunks_exact(2)) {
        *o = 0.5 * (s[0] * s[0] + s[1] * s[1]);
    }
}

/// Largest absolute sample.
#[inline]
pub fn peak(buf: &[f32]) -> f32 {
    buf.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// Look-ahead brick-wall peak limiter for interleaved stereo, stereo-linked.
///
/// Output is the input delayed by `lookahead` frames, times a gain that is never above what
/// keeps every sample within `ceiling`: the gain is the minimum of the required gain over the
/// next `lookahead` frames, released with a one-pole (`release` seconds time constant), then
/// smoothed by a `lookahead`-long moving average. The moving average of a future minimum can
/// only be at or below the requirement at every frame, so the ceiling holds exactly while the
/// gain moves smoothly (no steps, so no clicks). Below the ceiling the gain is 1 and the
/// limiter is a pure delay.
#[derive(Debug, Clone)]
pub struct Limiter {
    ceiling: f32,
    lookahead: usize,
    release_coef: f32,
    /// Delay line for the audio, `lookahead` frames, interleaved, indexed by `n % lookahead`.
    delay: Vec<f32>,
    /// Monotonic deque (front = minimum) of `(frame number, required gain)` over the last
    /// `lookahead + 1` frames, a ring of that capacity.
    deque: Vec<(u64, f32)>,
    dq_head: usize,
    dq_len: usize,
    /// Released gain of the last `lookahead` frames (ring) and its running sum.
    held: Vec<f32>,
    held_sum: f64,
    /// Frames seen, and `n % lookahead` (the slot in `delay` and `held`).
    n: u64,
    slot: usize,
    last_held: f32,
}

impl Limiter {
    /// `ceiling` in linear full scale (e.g. 0.891 = -1 dBFS), `lookahead` in frames (>= 1),
    /// `release_secs` at `rate` Hz.
    pub fn new(ceiling: f32, lookahead: usize, release_secs: f64, rate: u32) -> Self {
        let lookahead = lookahead.max(1);
        let release_coef = (-1.0 / (release_secs.max(1e-4) * f64::from(rate))).exp() as f32;
        Limiter {
            ceiling,
            lookahead,
            release_coef,
            delay: vec![0.0; lookahead * 2],
            deque: vec![(0, 1.0); lookahead + 1],
            dq_head: 0,
            dq_len: 0,
            held: vec![1.0; lookahead],
            held_sum: lookahead as f64,
            n: 0,
            slot: 0,
            last_held: 1.0,
        }
    }

    /// Delay in frames between input and output.
    pub fn latency(&self) -> usize {
        self.lookahead
    }

    /// Limits interleaved stereo `buf` in place (output = input delayed by [`Self::latency`]).
    pub fn process(&mut self, buf: &mut [f32]) {
        for frame in buf.chunks_exact_mut(2) {
            let p = frame[0].abs().max(frame[1].abs());
            let req = if p > self.ceiling { self.ceiling / p } else { 1.0 };
            let gain = self.next_gain(req);
            let d = &mut self.delay[self.slot * 2..self.slot * 2 + 2];
            let (out_l, out_r) = (d[0], d[1]);
            d[0] = frame[0];
            d[1] = frame[1];
            // The clamp only catches float rounding at the ceiling; the gain already holds it.
            frame[0] = (out_l * gain).clamp(-self.ceiling, self.ceiling);
            frame[1] = (out_r * gain).clamp(-self.ceiling, self.ceiling);
            self.n += 1;
            self.slot += 1;
            if self.slot == self.lookahead {
                self.slot = 0;
            }
        }
    }

    /// Pushes the required gain of frame `n` and returns the gain for frame `n - lookahead`.
    #[inline]
    fn next_gain(&mut self, req: f32) -> f32 {
        let window = self.lookahead as u64 + 1;
        let cap = self.deque.len();
        let wrap = |i: usize| if i >= cap { i - cap } else { i };
        let n = self.n;
        // Sliding minimum over frames (n - lookahead ..= n).
        while self.dq_len > 0 && self.deque[wrap(self.dq_head + self.dq_len - 1)].1 >= req {
            self.dq_len -= 1;
        }
        while self.dq_len > 0 && self.deque[self.dq_head].0 + window <= n {
            self.dq_head = wrap(self.dq_head + 1);
            self.dq_len -= 1;
        }
        self.deque[wrap(self.dq_head + self.dq_len)] = (n, req);
        self.dq_len += 1;
        let window_min = self.deque[self.dq_head].1;
        // Instant attack, one-pole release.
        let held = if window_min < self.last_held {
            window_min
        } else {
            window_min + (self.last_held - window_min) * self.release_coef
        };
        self.last_held = held;
        // Moving average over the last `lookahead` held gains.
        self.held_sum += f64::from(held) - f64::from(self.held[self.slot]);
        self.held[self.slot] = held;
        (self.held_sum / self.lookahead as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_and_gain_math() {
        let mut dst = vec![1.0, 2.0, 3.0, 4.0];
        mix_into(&mut dst, &[1.0, 1.0, 1.0, 1.0], 0.5);
        assert_eq!(dst, vec![1.5, 2.5, 3.5, 4.5]);
        mix_into_gains(&mut dst, &[1.0, 1.0, 2.0, 2.0], &[0.0, 1.0]);
        assert_eq!(dst, vec![1.5, 2.5, 5.5, 6.5]);
        apply_gains(&mut dst, &[2.0, 0.0]);
        assert_eq!(dst, vec![3.0, 5.0, 0.0, 0.0]);
    }

    #[test]
    fn equal_power_points() {
        assert_eq!(equal_power(0.0), 0.0);
        assert!((equal_power(0.5) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!((equal_power(1.0) - 1.0).abs() < 1e-6);
        let mut g = vec![1.0; 3];
        apply_ramp(&mut g, 0.0, 0.5);
        assert!((g[1] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3 && (g[2] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn crossfade_keeps_power_of_uncorrelated_ends() {
        let mut dst = vec![0.0; 6];
        crossfade(&mut dst, &[1.0; 6], &[0.0; 6], 0.0, 0.5);
        assert!(
            (dst[0] - 1.0).abs() < 1e-6
                && (dst[2] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3
                && dst[4].abs() < 1e-6
        );
    }

    /// The limiter's output never exceeds the ceiling, is the input delayed when quiet, and
    /// moves its gain smoothly.
    #[test]
    fn limiter_ceiling_delay_and_smoothness() {
        let la = 64;
        let mut lim = Limiter::new(0.5, la, 0.05, 48_000);
        let n = 48_000;
        let input: Vec<f32> = (0..n)
            .flat_map(|i| {
                let amp = if (10_000..20_000).contains(&i) { 1.8 } else { 0.25 };
                let s = amp * (i as f32 * 0.03).sin();
                [s, -s]
            })
            .collect();
        let mut out = input.clone();
        for block in out.chunks_mut(2 * 333) {
            lim.process(block);
        }
        assert!(peak(&out) <= 0.5 + 1e-6);
        // Quiet part before the loud one: exactly the delayed input.
        for i in la..5_000 {
            assert!((out[2 * i] - input[2 * (i - la)]).abs() < 1e-6);
        }
        // The gain never jumps: output / input moves by < 5 % per frame where input is large.
        let mut prev: Option<f32> = None;
        for i in la..n {
            let x = input[2 * (i - la)];
            if x.abs() > 0.2 {
                let g = out[2 * i] / x;
                if let Some(p) = prev {
                    assert!((g - p).abs() < 0.05, "gain step {p} -> {g} at {i}");
                }
                prev = Some(g);
            } else {
                prev = None;
            }
        }
    }

    /// The streaming limiter equals a brute-force evaluation of its definition.
    #[test]
    fn limiter_matches_brute_force_reference() {
        let (ceiling, la, rel) = (0.8f32, 32usize, 0.01);
        let n = 5_000;
        let input: Vec<f32> = (0..n)
            .flat_map(|i| {
                let x = i as f32;
                let s = (x * 0.07).sin() * (1.0 + (x * 0.003).sin()) + 0.3 * (x * 1.3).sin();
                [s, 0.5 * s]
            })
            .collect();
        let mut out = input.clone();
        let mut lim = Limiter::new(ceiling, la, rel, 48_000);
        for block in out.chunks_mut(2 * 97) {
            lim.process(block);
        }
        let coef = (-1.0 / (rel * 48_000.0)).exp() as f32;
        let req: Vec<f32> = input
            .chunks_exact(2)
            .map(|f| {
                let p = f[0].abs().max(f[1].abs());
                if p > ceiling {
                    ceiling / p
                } else {
                    1.0
                }
            })
            .collect();
        let mut held = vec![1.0f32; n];
        let mut last = 1.0f32;
        for k in 0..n {
            let m = req[k.saturating_sub(la)..=k].iter().cloned().fold(1.0, f32::min);
            last = if m < last { m } else { m + (last - m) * coef };
            held[k] = last;
        }
        for k in la..n {
            // Output frame k is input frame k - la with the average of held[k-la+1..=k].
            let g: f32 = held[k + 1 - la..=k].iter().sum::<f32>() / la as f32;
            let want = (input[2 * (k - la)] * g).clamp(-ceiling, ceiling);
            assert!((out[2 * k] - want).abs() < 1e-4, "frame {k}: {} vs {want}", out[2 * k]);
            assert!(out[2 * k].abs() <= ceiling);
        }
    }
}
