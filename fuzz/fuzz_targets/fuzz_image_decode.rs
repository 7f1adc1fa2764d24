//! Arbitrary bytes as a fetched image: `decode_image` answers a picture within the pixel
//! limit or a `MediaError`, and never panics, hangs or allocates past the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samvideo_core::media::image::decode_image;

/// 4 MP: small enough that a header lying about its size shows up as a limit error.
const MAX_PIXELS: u64 = 4_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = decode_image(data, MAX_PIXELS) {
        assert!(img.width as u64 * img.height as u64 <= MAX_PIXELS);
        assert_eq!(img.data.len(), img.width as usize * img.height as usize * 4);
    }
});
