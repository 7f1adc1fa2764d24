//! Resource limits for one render job, with documented defaults (see `docs/ingest.md`).
//!
//! Every stage that touches stranger-supplied media reads its bound from one [`Limits`]
//! value: the HTTP fetcher (bytes, timeouts, redirects), the per-job cache (bytes per job),
//! the decoders (pixels, frames, input video size and duration) and the planner (output
//! duration, clip count). Values enter from the operator's configuration (builder-lite
//! `with_*` setters, [`Limits::validate`] before use); failures leave as
//! [`MediaError::Limit`] / [`MediaError::TooLarge`] with a message carrying the value and the
//! limit, e.g. `20000x20000 exceeds the 50 MP limit`.

use std::time::Duration;

use super::MediaError;

/// One mebibyte.
const MIB: u64 = 1024 * 1024;

/// Bounds on what one job may fetch and decode. `Default` gives the documented values.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest body of one media item, in bytes (default 200 MiB). Checked against
    /// `Content-Length` before reading and against the running count while streaming.
    pub max_item_bytes: u64,
    /// Largest sum of all distinct media of one job, in bytes (default 1 GiB).
    pub max_job_bytes: u64,
    /// Longest wait for a TCP (and TLS) connection to one address (default 10 s).
    pub connect_timeout: Duration,
    /// Longest time one item may take from the first connect to the last body byte,
    /// redirects included (default 30 s).
    pub fetch_timeout: Duration,
    /// Most redirects followed for one item (default 10).
    pub max_redirects: u32,
    /// Largest decoded image, width × height, read from the header before decoding
    /// (default 50 000 000 = 50 MP).
    pub max_image_pixels: u64,
    /// Most frames decoded from an animated image (default 1 000).
    pub max_animation_frames: u32,
    /// Longest input video, in seconds (default 1 800 s = 30 min).
    pub max_input_video_seconds: f64,
    /// Largest input video width or height, in pixels (default 4 096).
    pub max_input_video_side: u32,
    /// Longest output video, in seconds (default 600 s = 10 min).
    pub max_output_seconds: f64,
    /// Most clips in one job (default 100).
    pub max_clips: usize,
    /// Largest subtitle file fetched for `transcript_srt` / `transcript_vtt`, in bytes
    /// (default 1 MiB: a 10-minute video's word-timed WebVTT is about 100 KiB).
    pub max_subtitle_bytes: u64,
    /// Largest font fetched for a caption `font_url`, in bytes (default 20 MiB: a CJK OpenType
    /// face is about 16 MiB, a Latin one well under 1 MiB).
    pub max_font_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_item_bytes: 200 * MIB,
            max_job_bytes: 1024 * MIB,
            connect_timeout: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(30),
            max_redirects: 10,
            max_image_pixels: 50_000_000,
            max_animation_frames: 1_000,
            max_input_video_seconds: 1_800.0,
            max_input_video_side: 4_096,
            max_output_seconds: 600.0,
            max_clips: 100,
            max_subtitle_bytes: MIB,
            max_font_bytes: 20 * MIB,
        }
    }
}

/// A limit configured to a value that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid limit {name}: {reason}")]
pub struct InvalidLimit {
    /// The field, e.g. `max_item_bytes`.
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Limits {
    /// Set `max_item_bytes`.
    pub fn with_max_item_bytes(mut self, bytes: u64) -> Self {
        self.max_item_bytes = bytes;
        self
    }

    /// Set `max_job_bytes`.
    pub fn with_max_job_bytes(mut self, bytes: u64) -> Self {
        self.max_job_bytes = bytes;
        self
    }

    /// Set `connect_timeout`.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Set `fetch_timeout`.
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Set `max_redirects`.
    pub fn with_max_redirects(mut self, redirects: u32) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// Set `max_image_pixels`.
    pub fn with_max_image_pixels(mut self, pixels: u64) -> Self {
        self.max_image_pixels = pixels;
        self
    }

    /// Refuse values no job could run under (zero sizes and timeouts, NaN durations).
    pub fn validate(&self) -> Result<(), InvalidLimit> {
        let bad = |name, reason| Err(InvalidLimit { name, reason });
        if self.max_item_bytes == 0 {
            return bad("max_item_bytes", "must be > 0");
        }
        if self.max_job_bytes < self.max_item_bytes {
            return bad("max_job_bytes", "must be >= max_item_bytes");
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout", "must be > 0");
        }
        if self.fetch_timeout.is_zero() {
            return bad("fetch_timeout", "must be > 0");
        }
        if self.max_image_pixels == 0 {
            return bad("max_image_pixels", "must be > 0");
        }
        if self.max_animation_frames == 0 {
            return bad("max_animation_frames", "must be > 0");
        }
        if self.max_input_video_side == 0 {
            return bad("max_input_video_side", "must be > 0");
        }
        if self.max_subtitle_bytes == 0 {
            return bad("max_subtitle_bytes", "must be > 0");
        }
        if self.max_font_bytes == 0 {
            return bad("max_font_bytes", "must be > 0");
        }
        if self.max_clips == 0 {
            return bad("max_clips", "must be > 0");
        }
        for (name, secs) in
            [("max_input_video_seconds", self.max_input_video_seconds), ("max_output_seconds", self.max_output_seconds)]
        {
            if !(secs.is_finite() && secs > 0.0) {
                return bad(name, "must be a finite number of seconds > 0");
            }
        }
        Ok(())
    }

    /// Check an image's size from its header, before decoding:
    /// `20000x20000 exceeds the 50 MP limit`.
    pub fn check_image(&self, width: u32, height: u32) -> Result<(), MediaError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_image_pixels {
            return Err(MediaError::Limit(format!(
                "{width}x{height} exceeds the {} limit",
                megapixels(self.max_image_pixels)
            )));
        }
        Ok(())
    }

    /// Check the frame count of an animated image: `1500 frames exceed the 1000 frame limit`.
    pub fn check_animation_frames(&self, frames: u64) -> Result<(), MediaError> {
        if frames > u64::from(self.max_animation_frames) {
            return Err(MediaError::Limit(format!(
                "{frames} frames exceed the {} frame limit",
                self.max_animation_frames
            )));
        }
        Ok(())
    }

    /// Check an input video's size and duration from its container header:
    /// `video 7680x4320 exceeds the 4096 pixel side limit`,
    /// `video of 3600 s exceeds the 1800 s limit`.
    pub fn check_input_video(&self, width: u32, height: u32, seconds: f64) -> Result<(), MediaError> {
        if width.max(height) > self.max_input_video_side {
            return Err(MediaError::Limit(format!(
                "video {width}x{height} exceeds the {} pixel side limit",
                self.max_input_video_side
            )));
        }
        if !seconds.is_finite() || seconds > self.max_input_video_seconds {
            return Err(MediaError::Limit(format!(
                "video of {} s exceeds the {} s limit",
                seconds_text(seconds),
                seconds_text(self.max_input_video_seconds)
            )));
        }
        Ok(())
    }

    /// Check the planned output duration: `output of 900 s exceeds the 600 s limit`.
    pub fn check_output_seconds(&self, seconds: f64) -> Result<(), MediaError> {
        if !seconds.is_finite() || seconds > self.max_output_seconds {
            return Err(MediaError::Limit(format!(
                "output of {} s exceeds the {} s limit",
                seconds_text(seconds),
                seconds_text(self.max_output_seconds)
            )));
        }
        Ok(())
    }

    /// Check the number of clips in one job: `150 clips exceed the 100 clip limit`.
    pub fn check_clips(&self, clips: usize) -> Result<(), MediaError> {
        if clips > self.max_clips {
            return Err(MediaError::Limit(format!("{clips} clips exceed the {} clip limit", self.max_clips)));
        }
        Ok(())
    }
}

/// `50 MP`, `12.5 MP`.
fn megapixels(pixels: u64) -> String {
    if pixels.is_multiple_of(1_000_000) {
        format!("{} MP", pixels / 1_000_000)
    } else {
        format!("{:.1} MP", pixels as f64 / 1e6)
    }
}

/// `600`, `12.5`.
fn seconds_text(seconds: f64) -> String {
    if seconds.fract() == 0.0 && seconds.abs() < 1e15 {
        format!("{}", seconds as i64)
    } else {
        format!("{seconds:.1}")
    }
}

/// Whole seconds for a timeout message, rounded up so a 500 ms limit does not read "0 s".
#[cfg(feature = "render")]
pub(crate) fn timeout_secs(timeout: Duration) -> u64 {
    let secs = timeout.as_secs();
    if timeout.subsec_nanos() > 0 {
        secs + 1
    } else {
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let l = Limits::default();
        assert_eq!(l.max_item_bytes, 209_715_200);
        assert_eq!(l.max_job_bytes, 1_073_741_824);
        assert_eq!(l.connect_timeout, Duration::from_secs(10));
        assert_eq!(l.fetch_timeout, Duration::from_secs(30));
        assert_eq!(l.max_redirects, 10);
        assert_eq!(l.max_image_pixels, 50_000_000);
        assert_eq!(l.max_animation_frames, 1_000);
        assert_eq!(l.max_input_video_seconds, 1_800.0);
        assert_eq!(l.max_input_video_side, 4_096);
        assert_eq!(l.max_output_seconds, 600.0);
        assert_eq!(l.max_clips, 100);
        assert_eq!(l.max_subtitle_bytes, 1_048_576);
        assert_eq!(l.max_font_bytes, 20_971_520);
        assert_eq!(l.validate(), Ok(()));
    }

    #[test]
    fn validate_names_the_bad_field() {
        let e = Limits::default().with_max_item_bytes(0).validate();
        assert_eq!(e.map_err(|e| e.to_string()), Err("invalid limit max_item_bytes: must be > 0".into()));
        let l = Limits { max_output_seconds: f64::NAN, ..Limits::default() };
        assert_eq!(l.validate().map_err(|e| e.name), Err("max_output_seconds"));
        let l = Limits::default().with_max_job_bytes(1).with_max_item_bytes(2);
        assert_eq!(l.validate().map_err(|e| e.name), Err("max_job_bytes"));
    }

    #[test]
    fn messages_carry_value_and_limit() {
        let l = Limits::default();
        let msg = |r: Result<(), MediaError>| r.map_err(|e| e.to_string());
        assert_eq!(msg(l.check_image(20_000, 20_000)), Err("20000x20000 exceeds the 50 MP limit".into()));
        assert_eq!(msg(l.check_image(10_000, 5_000)), Ok(()));
        assert!(msg(l.check_image(u32::MAX, u32::MAX)).is_err());
        assert_eq!(
            msg(l.clone().with_max_image_pixels(12_500_000).check_image(5000, 5000)),
            Err("5000x5000 exceeds the 12.5 MP limit".into())
        );
        assert_eq!(msg(l.check_animation_frames(1_500)), Err("1500 frames exceed the 1000 frame limit".into()));
        assert_eq!(
            msg(l.check_input_video(7680, 4320, 10.0)),
            Err("video 7680x4320 exceeds the 4096 pixel side limit".into())
        );
        assert_eq!(
            msg(l.check_input_video(1920, 1080, 3600.0)),
            Err("video of 3600 s exceeds the 1800 s limit".into())
        );
        assert!(msg(l.check_input_video(1920, 1080, f64::INFINITY)).is_err());
        assert_eq!(msg(l.check_output_seconds(900.5)), Err("output of 900.5 s exceeds the 600 s limit".into()));
        assert_eq!(msg(l.check_output_seconds(600.0)), Ok(()));
        assert_eq!(msg(l.check_clips(150)), Err("150 clips exceed the 100 clip limit".into()));
        assert_eq!(msg(l.check_clips(100)), Ok(()));
    }

    #[test]
    fn timeout_seconds_round_up() {
        assert_eq!(timeout_secs(Duration::from_secs(30)), 30);
        assert_eq!(timeout_secs(Duration::from_millis(500)), 1);
        assert_eq!(timeout_secs(Duration::from_millis(1500)), 2);
    }
}
