//! Arbitrary bytes as a fetched video clip: MP4/MOV demux (shiguredo_mp4), then H.264
//! (OpenH264) or AV1 (rav1d) decoding of the first frames. `probe` and `frame_at` answer or
//! fail with a `MediaError`; nothing panics, and sizes stay inside the limits.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use samvideo_core::media::video::{probe_with_limits, VideoLimits, VideoReader};

fuzz_target!(|data: &[u8]| {
    let limits = VideoLimits { max_width: 1920, max_height: 1920, max_duration: 60.0 };
    let Ok(info) = probe_with_limits(data, &limits) else { return };
    assert!(info.width <= 1920 && info.height <= 1920);
    let Ok(mut reader) = VideoReader::open(Arc::new(data.to_vec()), &limits) else { return };
    for t in [0.0, 0.5, 0.1] {
        if let Ok(frame) = reader.frame_at(t) {
            assert_eq!(frame.len(), info.width as usize * info.height as usize * 4);
        }
    }
});
