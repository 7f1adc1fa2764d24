//! The font files samvideo draws text with, as bytes compiled into the binary, so output is
//! identical on every machine and a build needs no system fonts.
//!
//! Enter: nothing (the files in `fonts/`, read by `include_bytes!` at build time). Leave: one
//! `&'static [u8]` per face; `samvideo-core`'s text engine (`compose/text.rs`) loads them into
//! its font database without copying. They sit in their own crate so that the 15 MB of data
//! is compiled once, not again with every edit of `samvideo-core` (which is compiled twice:
//! library and unit tests). Sources, sizes and licences: `README.md` beside this file.

/// DejaVu Sans Bold (TrueType, 0.7 MB): the default caption and text face; Latin, Greek,
/// Cyrillic, Arabic and Hebrew. Licence: `fonts/LICENSE-DejaVu.txt` (Bitstream Vera / public domain).
pub static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Bebas Neue Bold (OpenType/CFF, 0.1 MB): the heavy condensed capitals of short-form
/// captions; Latin and basic Cyrillic. Licence: `fonts/LICENSE-BebasNeue.txt` (OFL-1.1).
pub static BEBAS_NEUE_BOLD: &[u8] = include_bytes!("../fonts/BebasNeue-Bold.otf");

/// Noto Color Emoji (TrueType with CBDT colour bitmaps at 109 ppem, 11.0 MB): emoji in
/// colour, behind every face. Licence: `fonts/LICENSE-NotoColorEmoji.txt` (OFL-1.1).
pub static NOTO_COLOR_EMOJI: &[u8] = include_bytes!("../fonts/NotoColorEmoji.ttf");

/// Droid Sans Fallback (TrueType, 3.5 MB): Chinese, Japanese and Korean, behind every face.
/// Licence: `fonts/LICENSE-DroidSansFallback.txt` (Apache-2.0).
pub static DROID_SANS_FALLBACK: &[u8] = include_bytes!("../fonts/DroidSansFallback.ttf");
