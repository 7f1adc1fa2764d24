//! Output geometry: aspect ratio x short side -> frame size (both even).
//!
//! The short side is 480 (low), 720 (medium, default) or 1080 (high) for the core
//! endpoints, or the advanced `resolution` (480p..2160p). The long side is
//! `short * 16 / 9` rounded to the nearest even number: 16:9 at 480 is 854x480.

use crate::request::AspectRatio;

/// Frame size for an aspect ratio and a short side.
pub fn frame_size(aspect: AspectRatio, short_side: u32) -> (u32, u32) {
    let long = ((short_side as f64 * 16.0 / 9.0) / 2.0).round() as u32 * 2;
    match aspect {
        AspectRatio::Landscape => (long, short_side),
        AspectRatio::Portrait => (short_side, long),
        AspectRatio::Square => (short_side, short_side),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_sizes() {
        assert_eq!(frame_size(AspectRatio::Landscape, 720), (1280, 720));
        assert_eq!(frame_size(AspectRatio::Portrait, 1080), (1080, 1920));
        assert_eq!(frame_size(AspectRatio::Square, 720), (720, 720));
        assert_eq!(frame_size(AspectRatio::Landscape, 480), (854, 480));
        assert_eq!(frame_size(AspectRatio::Landscape, 2160), (3840, 2160));
        assert_eq!(frame_size(AspectRatio::Landscape, 1440), (2560, 1440));
    }
}
