//! Arbitrary bytes as a caption font (`font_url`): the font check answers a font or "not a
//! TrueType or OpenType font", and a font it accepts shapes, measures and rasterizes text
//! (Latin, Arabic, CJK, emoji, with an outline) without panicking.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use samvideo_core::compose::text::{line_width_in, text_layers_in, Font};

static PANIC_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // The font check reads every glyph outline under `catch_unwind` (read-fonts 0.41 panics on
    // some broken glyphs, fontations#1962), as the server runs it. libfuzzer-sys's panic hook
    // aborts even on a panic that is caught; this one only prints. A panic that escapes still
    // fails the run: libfuzzer-sys aborts on it after its own `catch_unwind`.
    PANIC_HOOK.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
    let Ok(font) = Font::from_bytes(data) else { return };
    for text in ["Hamburgefontsiv 0123", "مرحبا", "日本語", "🎬"] {
        let w = line_width_in(&font, text, 24.0);
        assert!(w.is_finite() && w >= 0.0);
        let layers = text_layers_in(&font, text, 24.0, 200, &[[255; 4]], ([0, 0, 0, 255], 2.0));
        assert!(layers.iter().all(|l| l.width >= 1 && l.height >= 1));
    }
});
