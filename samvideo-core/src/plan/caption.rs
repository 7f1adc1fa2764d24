//! Caption pages of the plan: words with their frames and the look they are drawn with.
//!
//! A transcript entry (or an advanced caption element) is lowered into [`CaptionPage`]s (the
//! words on screen together, each with the frames it is spoken on) sharing one [`CaptionLook`];
//! the compositor (`compose/caption.rs`) lays a page out and draws it, the spoken word in its
//! state. Rules: `docs/captions.md`.

use std::sync::Arc;

use super::{MediaRef, SafeArea, VerticalPosition};

/// What marks the spoken word, and how pages are boxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptionBox {
    /// No box.
    None,
    /// One box around the whole page (classic).
    Page,
    /// A box behind each line (boxed-line).
    Line,
    /// A box behind the spoken word only (boxed-word).
    SpokenWord,
}

/// A font family bundled with the renderer (`font_family`). The names requests may send are
/// the validation table's (`FONT_FAMILIES` in `validate/rules.rs`, the one list the docs show);
/// a unit test keeps that list and these variants the same. Colour emoji and CJK are not
/// families here: they are drawn behind every family (`compose/text.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FontFamily {
    /// DejaVu Sans Bold: the default.
    #[default]
    DejaVuSans,
    /// Bebas Neue Bold: condensed heavy display capitals.
    BebasNeue,
}

impl FontFamily {
    /// Every bundled family.
    pub const ALL: [FontFamily; 2] = [FontFamily::DejaVuSans, FontFamily::BebasNeue];

    /// The family's name: what a request sends, and the family name in the font file.
    pub const fn name(self) -> &'static str {
        match self {
            FontFamily::DejaVuSans => "DejaVu Sans",
            FontFamily::BebasNeue => "Bebas Neue",
        }
    }

    /// The bundled family called `name`, if there is one.
    pub fn named(name: &str) -> Option<FontFamily> {
        FontFamily::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How every page of a caption track looks (one per transcript, or per caption element).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionLook {
    /// Glyph size in pixels at the output size.
    pub font_px: f32,
    /// Text colour, RGBA.
    pub color: [u8; 4],
    /// Colour of the spoken word (None: like the others).
    pub highlight: Option<[u8; 4]>,
    /// Which box is drawn.
    pub boxed: CaptionBox,
    /// Box colour, RGBA (alpha 0: no box).
    pub box_color: [u8; 4],
    /// Outline colour and width in pixels (0: none).
    pub stroke: ([u8; 4], f32),
    /// A drop shadow under the text.
    pub shadow: bool,
    /// The spoken word grows from 80 % to full size over its first frames (this many; 0: no pop).
    pub pop_frames: u64,
    /// Most lines of a page; the text shrinks when the words do not fit (0: no limit).
    pub max_lines: u32,
    /// Vertical placement in the safe area.
    pub position: VerticalPosition,
    /// Upward nudge as a fraction of the frame height, clamped to the safe area.
    pub offset: f32,
    /// Where the page must stay.
    pub safe_area: SafeArea,
    /// The bundled family to draw with (when there is no `font_url`).
    pub family: FontFamily,
    /// The `font_url` to draw with (fetched by the renderer), or the bundled family.
    pub font: Option<MediaRef>,
}

/// One word of a page and the frames it is spoken on (`start..end`).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionWord {
    /// The word as drawn (capitals already applied).
    pub text: String,
    /// First frame it is spoken on.
    pub start: u64,
    /// One past the last.
    pub end: u64,
}

/// Words shown together on frames `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionPage {
    /// The words, in reading order.
    pub words: Vec<CaptionWord>,
    /// First frame shown.
    pub start: u64,
    /// One past the last frame shown.
    pub end: u64,
    /// The look (shared by the pages of a track).
    pub look: Arc<CaptionLook>,
}

impl CaptionPage {
    /// Is the page on screen at frame `n`?
    pub fn active(&self, n: u64) -> bool {
        (self.start..self.end).contains(&n)
    }

    /// The word spoken on frame `n`, if any (the page may show in a short pause).
    pub fn spoken(&self, n: u64) -> Option<usize> {
        self.words.iter().position(|w| (w.start..w.end).contains(&n))
    }

    /// What the page looks like on frame `n`: the spoken word and, while it pops, how many
    /// frames it has been spoken (equal states draw equal pixels).
    pub fn state(&self, n: u64) -> Option<(usize, u64)> {
        let look = &self.look;
        if look.highlight.is_none() && look.boxed != CaptionBox::SpokenWord && look.pop_frames == 0 {
            return None; // nothing marks the spoken word
        }
        let k = self.spoken(n)?;
        let pop = self.look.pop_frames;
        let age = if pop > 0 { (n - self.words[k].start).min(pop) } else { 0 };
        Some((k, age))
    }
}
