//! Text to pixels: shaping and wrapping with cosmic-text over the fonts bundled with the
//! renderer (`samvideo-fonts`: DejaVu Sans Bold, Bebas Neue Bold, Noto Color Emoji, Droid Sans
//! Fallback), so output is identical on every machine, or over a caption's `font_url`
//! ([`Font::from_bytes`], with the bundled fonts behind it).
//!
//! Enter: a string, a pixel size, a wrap width and colours (and a [`Font`] for the `*_in`
//! forms). Leave: an [`Rgba`] layer tightly around the (centred) text, with an optional
//! outline. Fallback: characters the family lacks are drawn from DejaVu Sans, then Noto Color
//! Emoji, then Droid Sans Fallback (CJK; tried first for Han, kana and Hangul), and emoji in
//! emoji presentation (Unicode `Emoji_Presentation`, or any emoji followed by U+FE0F) always
//! come from Noto Color Emoji, in their own colours whatever the text colour. Characters no
//! font has render as the family's missing-glyph box; no input makes this panic, font bytes
//! included (fuzzed: `fuzz/fuzz_targets/fuzz_font.rs`).

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use cosmic_text::fontdb::{self, Database, Source, Weight};
use cosmic_text::{
    Attrs, Buffer, Fallback, Family, FontSystem, Metrics, Shaping, SwashCache, SwashContent, SwashImage, Wrap,
};
use unicode_properties::{EmojiStatus, UnicodeEmoji};
use unicode_script::Script;

use crate::frame::Rgba;
use crate::plan::FontFamily;

/// Colour emoji, behind every family.
const EMOJI_FAMILY: &str = "Noto Color Emoji";
/// Chinese, Japanese and Korean, behind every family.
const CJK_FAMILY: &str = "Droid Sans Fallback";
/// The weight bundled text is set in: DejaVu Sans and Bebas Neue are bundled in Bold.
const BUNDLED_WEIGHT: Weight = Weight::BOLD;

struct Shaper {
    fonts: FontSystem,
    cache: SwashCache,
}

impl Shaper {
    /// A shaper over `db` with the bundled fonts added behind its faces, each listed at
    /// `weight`: cosmic-text falls back only to faces of the weight it was asked for, and each
    /// bundled face has one weight, so they are all listed at the weight text is set in.
    fn new(mut db: Database, weight: Weight) -> Shaper {
        for bytes in [
            samvideo_fonts::DEJAVU_SANS_BOLD,
            samvideo_fonts::BEBAS_NEUE_BOLD,
            samvideo_fonts::NOTO_COLOR_EMOJI,
            samvideo_fonts::DROID_SANS_FALLBACK,
        ] {
            // Borrowed, not copied: the bytes live in the binary, and only the pages read
            // while drawing become resident.
            for id in db.load_font_source(Source::Binary(Arc::new(bytes))) {
                if let Some(mut info) = db.face(id).cloned() {
                    db.remove_face(id);
                    info.weight = weight;
                    db.push_face_info(info);
                }
            }
        }
        let fonts = FontSystem::new_with_locale_and_db_and_fallback("en-US".into(), db, BundledFallback);
        Shaper { fonts, cache: SwashCache::new() }
    }
}

/// Where cosmic-text looks for a character the requested family lacks: the bundled fonts, the
/// same on every platform (its default lists name system fonts and differ by OS).
struct BundledFallback;

impl Fallback for BundledFallback {
    fn common_fallback(&self) -> &[&'static str] {
        const COMMON: &[&str] = &[FontFamily::DejaVuSans.name(), EMOJI_FAMILY, CJK_FAMILY];
        COMMON
    }

    fn forbidden_fallback(&self) -> &[&'static str] {
        &[]
    }

    fn script_fallback(&self, script: Script, _locale: &str) -> &[&'static str] {
        match script {
            Script::Han | Script::Hiragana | Script::Katakana | Script::Hangul | Script::Bopomofo => &[CJK_FAMILY],
            _ => &[],
        }
    }
}

/// The shaper of the bundled families (one for the process, built on first use).
fn shaper() -> &'static Mutex<Shaper> {
    static SHAPER: OnceLock<Mutex<Shaper>> = OnceLock::new();
    SHAPER.get_or_init(|| Mutex::new(Shaper::new(Database::new(), BUNDLED_WEIGHT)))
}

/// A typeface text is set in: a bundled family ([`FontFamily`]), or a font a request fetched
/// (`font_url`), with its own shaper and the bundled fonts behind it for characters it lacks.
/// Cheap to clone (shared).
#[derive(Clone)]
pub struct Font(Face);

#[derive(Clone)]
enum Face {
    Bundled(FontFamily),
    Fetched(Arc<Fetched>),
}

struct Fetched {
    shaper: Mutex<Shaper>,
    family: String,
    /// The weight of the face text is set in (its regular one when it has one).
    weight: Weight,
}

impl Default for Font {
    fn default() -> Self {
        Font::bundled()
    }
}

/// Why font bytes cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a TrueType or OpenType font")]
pub struct NotAFont;

impl Font {
    /// The default bundled family, DejaVu Sans (Bold).
    pub fn bundled() -> Font {
        Font::family_of(FontFamily::default())
    }

    /// A bundled family.
    pub fn family_of(family: FontFamily) -> Font {
        Font(Face::Bundled(family))
    }

    /// A font from its file's bytes (TTF, OTF or a collection's first face), checked by
    /// parsing its tables (ttf-parser, through fontdb): bytes that hold no usable face are
    /// refused, whatever they are.
    pub fn from_bytes(bytes: &[u8]) -> Result<Font, NotAFont> {
        let mut db = Database::new();
        db.load_font_data(bytes.to_vec());
        let family = db.faces().find_map(|f| f.families.first().map(|(name, _)| name.clone())).ok_or(NotAFont)?;
        if family.trim().is_empty() {
            return Err(NotAFont);
        }
        let faces: Vec<u32> =
            db.faces().filter(|f| f.families.iter().any(|(name, _)| *name == family)).map(|f| f.index).collect();
        if !faces.into_iter().all(|index| outlines_readable(bytes, index)) {
            return Err(NotAFont);
        }
        let query = fontdb::Query { families: &[Family::Name(&family)], weight: Weight::NORMAL, ..Default::default() };
        let weight = db.query(&query).and_then(|id| db.face(id)).map_or(Weight::NORMAL, |f| f.weight);
        let shaper = Mutex::new(Shaper::new(db, weight));
        Ok(Font(Face::Fetched(Arc::new(Fetched { shaper, family, weight }))))
    }

    /// The family name text is set in.
    pub fn family(&self) -> &str {
        match &self.0 {
            Face::Bundled(f) => f.name(),
            Face::Fetched(f) => f.family.as_str(),
        }
    }

    fn weight(&self) -> Weight {
        match &self.0 {
            Face::Bundled(_) => BUNDLED_WEIGHT,
            Face::Fetched(f) => f.weight,
        }
    }

    fn shaper(&self) -> &Mutex<Shaper> {
        match &self.0 {
            Face::Bundled(_) => shaper(),
            Face::Fetched(f) => &f.shaper,
        }
    }

    /// Sets `text` into `buffer`: in this font, its emoji in the colour emoji font.
    fn set_text(&self, buffer: &mut Buffer, text: &str, align: Option<cosmic_text::Align>) {
        let attrs = Attrs::new().family(Family::Name(self.family())).weight(self.weight());
        let emoji = attrs.clone().family(Family::Name(EMOJI_FAMILY));
        let mut spans = Vec::new();
        let mut at = 0;
        for range in emoji_ranges(text) {
            if range.start > at {
                spans.push((&text[at..range.start], attrs.clone()));
            }
            spans.push((&text[range.clone()], emoji.clone()));
            at = range.end;
        }
        if at < text.len() || spans.is_empty() {
            spans.push((&text[at..], attrs.clone()));
        }
        buffer.set_rich_text(spans, &attrs, Shaping::Advanced, align);
    }
}

/// Byte ranges of `text` drawn as colour emoji: a character whose default presentation is
/// emoji (`Emoji_Presentation`, unless U+FE0E follows), or any emoji character followed by
/// U+FE0F (`❤️`, keycaps), with the rest of its sequence (variation selectors, skin tones,
/// keycap mark, tags, joiner and the next emoji, the second flag letter). Neighbours merge.
fn emoji_ranges(text: &str) -> Vec<Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let starts = match chars.get(i + 1).map(|&(_, n)| n) {
            Some('\u{FE0E}') => false,
            Some('\u{FE0F}') => c.is_emoji_char(),
            _ => emoji_presentation(c),
        };
        if !starts {
            i += 1;
            continue;
        }
        let flag = matches!(c, '\u{1F1E6}'..='\u{1F1FF}');
        let mut j = i + 1;
        while let Some(&(_, n)) = chars.get(j) {
            match n {
                '\u{FE0F}' | '\u{20E3}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}' => j += 1,
                '\u{200D}' => j = (j + 2).min(chars.len()),
                '\u{1F1E6}'..='\u{1F1FF}' if flag && j == i + 1 => j += 1,
                _ => break,
            }
        }
        let (start, end) = (byte_at(i), byte_at(j));
        match out.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => out.push(start..end),
        }
        i = j;
    }
    out
}

/// Unicode's `Emoji_Presentation`: drawn as emoji unless asked otherwise.
fn emoji_presentation(c: char) -> bool {
    matches!(
        c.emoji_status(),
        EmojiStatus::EmojiPresentation
            | EmojiStatus::EmojiPresentationAndModifierBase
            | EmojiStatus::EmojiPresentationAndEmojiComponent
            | EmojiStatus::EmojiPresentationAndModifierAndEmojiComponent
    )
}

/// Most a glyph may extend from the origin, in ems: real glyphs stay within a few (tall
/// stacked marks, wide ligatures); a hostile one made the rasterizer's mask size overflow.
const MAX_GLYPH_EMS: f32 = 8.0;

/// Reads and hints every glyph outline of face `index` once, inside a guard, and checks its
/// bounds: the outline readers and the rasterizer under cosmic-text are third-party code over
/// hostile bytes, and our mutation replay made them panic on a zero-point glyph with trailing
/// bytes (read-fonts 0.41.0, fontations issue 1962) and on a glyph so large that the mask's
/// byte count overflowed (zeno 0.3.3). A face failing either is refused here, so drawing text
/// never meets one. About 4 µs a glyph (25 ms for DejaVu Sans Bold's 6 196).
fn outlines_readable(bytes: &[u8], index: u32) -> bool {
    const SIZE: f32 = 32.0;
    std::panic::catch_unwind(|| {
        let Some(font) = swash::FontRef::from_index(bytes, index as usize) else { return false };
        let mut context = swash::scale::ScaleContext::new();
        let mut scaler = context.builder(font).size(SIZE).hint(true).build();
        let limit = MAX_GLYPH_EMS * SIZE;
        (0..font.metrics(&[]).glyph_count).all(|id| {
            scaler.scale_outline(id).is_none_or(|outline| {
                let b = outline.bounds();
                [b.min.x, b.min.y, b.max.x, b.max.y].iter().all(|v| v.is_finite() && v.abs() <= limit)
            })
        })
    })
    .unwrap_or(false)
}

/// Wrapped, centred text, rasterized: the coverage of its outline glyphs and, when it has
/// colour glyphs (emoji), their straight-alpha RGBA pixels, both `w` x `h`.
struct Raster {
    w: u32,
    h: u32,
    mask: Vec<u8>,
    color: Option<Vec<u8>>,
}

/// Coverage mask of wrapped, centred text: `(width, height, alpha bytes)`.
pub fn text_mask(text: &str, font_px: f32, max_width: u32) -> (u32, u32, Vec<u8>) {
    text_mask_in(&Font::bundled(), text, font_px, max_width)
}

/// [`text_mask`] in `font` (colour glyphs count by their alpha).
pub fn text_mask_in(font: &Font, text: &str, font_px: f32, max_width: u32) -> (u32, u32, Vec<u8>) {
    let Raster { w, h, mut mask, color } = raster(font, text, font_px, max_width);
    if let Some(color) = color {
        for (m, px) in mask.iter_mut().zip(color.chunks_exact(4)) {
            *m = (*m).max(px[3]);
        }
    }
    (w, h, mask)
}

fn raster(font: &Font, text: &str, font_px: f32, max_width: u32) -> Raster {
    let font_px = font_px.clamp(4.0, 400.0);
    let mut guard = match font.shaper().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let Shaper { fonts, cache } = &mut *guard;
    let mut buffer = Buffer::new(fonts, Metrics::new(font_px, (font_px * 1.25).ceil()));
    buffer.set_wrap(Wrap::WordOrGlyph);
    buffer.set_size(Some(max_width.max(1) as f32), None);
    font.set_text(&mut buffer, text, Some(cosmic_text::Align::Center));
    buffer.shape_until_scroll(fonts, false);

    let mut lines = 0usize;
    let mut min_x = f32::MAX;
    let mut max_x = 0f32;
    for run in buffer.layout_runs() {
        lines += 1;
        if let (Some(first), Some(last)) = (run.glyphs.first(), run.glyphs.last()) {
            min_x = min_x.min(first.x.min(last.x));
            max_x = max_x.max((last.x + last.w).max(first.x + first.w));
        }
    }
    let line_h = (font_px * 1.25).ceil();
    let h = ((lines.max(1) as f32) * line_h).ceil() as u32 + 2;
    let w = max_width.max(1);
    let mut mask = vec![0u8; (w * h) as usize];
    let mut color: Option<Vec<u8>> = None;
    for run in buffer.layout_runs() {
        for glyph in run.glyphs {
            let physical = glyph.physical((0.0, run.line_y), 1.0);
            let Some(image) = cache.get_image(fonts, physical.cache_key) else { continue };
            let (x0, y0) = (physical.x + image.placement.left, physical.y - image.placement.top);
            match image.content {
                SwashContent::Mask => each_pixel(image, 1, x0, y0, w, h, |i, p| mask[i] = mask[i].max(p[0])),
                SwashContent::Color => {
                    let layer = color.get_or_insert_with(|| vec![0u8; (w * h * 4) as usize]);
                    each_pixel(image, 4, x0, y0, w, h, |i, p| over(&mut layer[i * 4..i * 4 + 4], p));
                }
                SwashContent::SubpixelMask => {} // not asked for (alpha masks only)
            }
        }
    }
    // Crop to the glyphs' columns so boxes hug the text.
    let (x0, x1) = if min_x <= max_x && min_x != f32::MAX {
        ((min_x.floor().max(0.0)) as u32, (max_x.ceil() as u32).min(w))
    } else {
        (0, 0)
    };
    let x0 = x0.min(w - 1);
    let cw = x1.saturating_sub(x0).max(1);
    let keep = cw.min(w - x0) as usize;
    let crop = |src: &[u8], bpp: usize| {
        let mut out = vec![0u8; cw as usize * h as usize * bpp];
        for y in 0..h as usize {
            let from = (y * w as usize + x0 as usize) * bpp;
            out[y * cw as usize * bpp..][..keep * bpp].copy_from_slice(&src[from..from + keep * bpp]);
        }
        out
    };
    Raster { w: cw, h, mask: crop(&mask, 1), color: color.map(|c| crop(&c, 4)) }
}

/// Calls `f(index in the w x h canvas, pixel)` for each pixel (`bpp` bytes) of `image`
/// placed with its top-left corner at (`x0`, `y0`) that falls inside the canvas.
fn each_pixel(image: &SwashImage, bpp: usize, x0: i32, y0: i32, w: u32, h: u32, mut f: impl FnMut(usize, &[u8])) {
    let (iw, ih) = (image.placement.width as usize, image.placement.height as usize);
    if image.data.len() < iw * ih * bpp {
        return;
    }
    for (dy, row) in image.data.chunks_exact((iw * bpp).max(1)).take(ih).enumerate() {
        let y = y0 + dy as i32;
        if y < 0 || y >= h as i32 {
            continue;
        }
        for (dx, p) in row.chunks_exact(bpp).enumerate() {
            let x = x0 + dx as i32;
            if x >= 0 && x < w as i32 {
                f(y as usize * w as usize + x as usize, p);
            }
        }
    }
}

/// `dst = src over dst`, straight-alpha RGBA.
fn over(dst: &mut [u8], src: &[u8]) {
    let sa = u32::from(src[3]);
    if sa == 0 {
        return;
    }
    let da = u32::from(dst[3]) * (255 - sa) / 255;
    let out_a = sa + da;
    for c in 0..3 {
        dst[c] = ((u32::from(src[c]) * sa + u32::from(dst[c]) * da) / out_a) as u8;
    }
    dst[3] = out_a as u8;
}

/// Grow a mask by `radius` pixels (max over a disc): the outline of text.
///
/// The disc is its rows: row `dy` spans `|dx| <= half[dy]`. Each mask row's running maximum
/// over `x ± s` is built from the one over `x ± (s − 1)` (three reads a pixel), and a pixel
/// takes the maximum of the disc's `2r + 1` rows at their half-widths: about `3r` reads a
/// pixel instead of the disc's `πr²`, for the same result.
pub fn dilate(mask: &[u8], w: u32, h: u32, radius: u32) -> Vec<u8> {
    if radius == 0 || w == 0 || h == 0 {
        return mask.to_vec();
    }
    let r = radius as usize;
    let (w, h) = (w as usize, h as usize);
    // Largest |dx| with dx² + dy² <= r², per |dy|.
    let half: Vec<usize> = (0..=r).map(|dy| (0..=r).rev().find(|dx| dx * dx + dy * dy <= r * r).unwrap_or(0)).collect();
    // `level`: every row's maximum over x - s ..= x + s, for s = 0, 1, ... r in turn; the disc
    // rows whose half-width is s take it (three buffers, whatever the radius).
    let mut level = mask.to_vec();
    let mut next = vec![0u8; w * h];
    let mut out = vec![0u8; w * h];
    for s in 0..=r {
        if s > 0 {
            for (src, dst) in level.chunks_exact(w).zip(next.chunks_exact_mut(w)) {
                widen_row(src, dst);
            }
            std::mem::swap(&mut level, &mut next);
        }
        for dy in (0..=r).filter(|dy| half[*dy] == s) {
            for y in 0..h {
                let row = &mut out[y * w..(y + 1) * w];
                for sy in [y.checked_sub(dy), (y + dy < h).then_some(y + dy)].into_iter().flatten() {
                    max_row(row, &level[sy * w..(sy + 1) * w]);
                    if dy == 0 {
                        break; // one row, not two
                    }
                }
            }
        }
    }
    out
}

/// `dst[x] = max(src[x - 1], src[x], src[x + 1])` (clipped at the ends).
fn widen_row(src: &[u8], dst: &mut [u8]) {
    let n = src.len();
    for x in 0..n {
        let l = src[x.saturating_sub(1)];
        let r = src[(x + 1).min(n - 1)];
        dst[x] = src[x].max(l).max(r);
    }
}

/// `dst[x] = max(dst[x], src[x])`.
fn max_row(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = (*d).max(*s);
    }
}

/// Render text to a layer: outline (if any) under the fill, padded by the outline width.
pub fn text_layer(text: &str, font_px: f32, max_width: u32, color: [u8; 4], stroke: ([u8; 4], f32)) -> Rgba {
    let mut layers = text_layers(text, font_px, max_width, &[color], stroke);
    layers.pop().unwrap_or_else(|| Rgba::filled(1, 1, [0; 4]))
}

/// [`text_layer`] in several fill colours at once (one shaping and one outline for all): one
/// layer per colour, all the same size and placement.
pub fn text_layers(text: &str, font_px: f32, max_width: u32, colors: &[[u8; 4]], stroke: ([u8; 4], f32)) -> Vec<Rgba> {
    text_layers_in(&Font::bundled(), text, font_px, max_width, colors, stroke)
}

/// [`text_layers`] in `font`.
pub fn text_layers_in(
    font: &Font,
    text: &str,
    font_px: f32,
    max_width: u32,
    colors: &[[u8; 4]],
    stroke: ([u8; 4], f32),
) -> Vec<Rgba> {
    let stroke_px = stroke.1.max(0.0).round() as u32;
    let ink = raster(font, text, font_px, max_width.saturating_sub(2 * stroke_px).max(1));
    let (mw, mh) = (ink.w, ink.h);
    let (w, h) = (mw + 2 * stroke_px, mh + 2 * stroke_px);
    let pad = |src: &[u8], bpp: usize| {
        let mut out = vec![0u8; (w * h) as usize * bpp];
        for y in 0..mh as usize {
            let dst = ((y + stroke_px as usize) * w as usize + stroke_px as usize) * bpp;
            let row = mw as usize * bpp;
            out[dst..dst + row].copy_from_slice(&src[y * row..][..row]);
        }
        out
    };
    let padded = pad(&ink.mask, 1);
    let emoji = ink.color.as_deref().map(|c| pad(c, 4));
    let outline = (stroke_px > 0 && stroke.0[3] > 0).then(|| {
        // Around the colour glyphs too: an emoji gets the outline the letters get.
        let mut all = padded.clone();
        if let Some(emoji) = &emoji {
            for (a, px) in all.iter_mut().zip(emoji.chunks_exact(4)) {
                *a = (*a).max(px[3]);
            }
        }
        dilate(&all, w, h, stroke_px)
    });
    colors
        .iter()
        .map(|&color| {
            let mut layer = Rgba { width: w, height: h, data: vec![0; (w * h * 4) as usize] };
            paint_row(&mut layer.data, &padded, outline.as_deref(), color, stroke.0);
            // Colour glyphs keep their own colours, whatever the text colour.
            if let Some(emoji) = &emoji {
                for (dst, src) in layer.data.chunks_exact_mut(4).zip(emoji.chunks_exact(4)) {
                    over(dst, src);
                }
            }
            layer
        })
        .collect()
}

/// Fill (coverage `fill`, colour `color`) over outline (coverage `outline`, colour `stroke`)
/// into straight-alpha RGBA pixels `out` ("over" operator).
fn paint_row(out: &mut [u8], fill: &[u8], outline: Option<&[u8]>, color: [u8; 4], stroke: [u8; 4]) {
    for (i, px) in out.chunks_exact_mut(4).enumerate() {
        let fill_a = fill[i] as u32 * color[3] as u32 / 255;
        let (mut r, mut g, mut b, mut a) = (0u32, 0u32, 0u32, 0u32);
        if let Some(o) = outline {
            a = o[i] as u32 * stroke[3] as u32 / 255;
            (r, g, b) = (stroke[0] as u32, stroke[1] as u32, stroke[2] as u32);
        }
        let out_a = fill_a + a * (255 - fill_a) / 255;
        let over = |f: u8, under: u32| (f as u32 * fill_a + under * a * (255 - fill_a) / 255).checked_div(out_a);
        if let (Some(nr), Some(ng), Some(nb)) = (over(color[0], r), over(color[1], g), over(color[2], b)) {
            (r, g, b) = (nr, ng, nb);
        }
        px.copy_from_slice(&[r as u8, g as u8, b as u8, out_a as u8]);
    }
}

/// Width in pixels of `text` set on one line at `font_px` (the extent [`text_mask`] crops to).
pub fn line_width(text: &str, font_px: f32) -> f32 {
    line_width_in(&Font::bundled(), text, font_px)
}

/// [`line_width`] in `font`.
pub fn line_width_in(font: &Font, text: &str, font_px: f32) -> f32 {
    let font_px = font_px.clamp(4.0, 400.0);
    let mut guard = match font.shaper().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let Shaper { fonts, .. } = &mut *guard;
    let mut buffer = Buffer::new(fonts, Metrics::new(font_px, (font_px * 1.25).ceil()));
    buffer.set_wrap(Wrap::None);
    buffer.set_size(None, None);
    font.set_text(&mut buffer, text, None);
    buffer.shape_until_scroll(fonts, false);
    let mut min_x = f32::MAX;
    let mut max_x = 0f32;
    for run in buffer.layout_runs() {
        for g in run.glyphs {
            min_x = min_x.min(g.x);
            max_x = max_x.max(g.x + g.w);
        }
    }
    // A broken font can place glyphs at infinity (found by fuzz_font): no width then.
    let width = if min_x <= max_x { max_x - min_x } else { 0.0 };
    if width.is_finite() {
        width
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ink_and_wraps() {
        let (w, h, mask) = text_mask("Hello", 40.0, 1000);
        assert!(w > 60 && w < 200, "{w}");
        assert!(mask.contains(&255));
        let (_, h2, _) = text_mask("Hello world this wraps onto lines", 40.0, 200);
        assert!(h2 >= 2 * h - 4, "{h} {h2}");
    }

    /// The disc by brute force.
    fn dilate_naive(mask: &[u8], w: u32, h: u32, radius: u32) -> Vec<u8> {
        let (r, w, h) = (radius as i64, w as i64, h as i64);
        let mut out = vec![0u8; mask.len()];
        for y in 0..h {
            for x in 0..w {
                let mut m = 0u8;
                for dy in -r..=r {
                    for dx in -r..=r {
                        let (sx, sy) = (x + dx, y + dy);
                        if dx * dx + dy * dy <= r * r && sx >= 0 && sy >= 0 && sx < w && sy < h {
                            m = m.max(mask[(sy * w + sx) as usize]);
                        }
                    }
                }
                out[(y * w + x) as usize] = m;
            }
        }
        out
    }

    #[test]
    fn dilation_is_the_disc_maximum() {
        let (w, h, mask) = text_mask("Ag, jolly!", 37.0, 400);
        for r in [0, 1, 2, 3, 6, 11] {
            assert_eq!(dilate(&mask, w, h, r), dilate_naive(&mask, w, h, r), "radius {r}");
        }
        let dot = [0, 0, 0, 0, 200, 0, 0, 0, 0];
        assert_eq!(dilate(&dot, 3, 3, 1), vec![0, 200, 0, 200, 200, 200, 0, 200, 0]);
        assert_eq!(dilate(&[7], 1, 1, 5), vec![7]);
    }

    const FONT: &[u8] = samvideo_fonts::DEJAVU_SANS_BOLD;

    /// A fetched font is used (other glyphs than the bundled one), and bytes that are not a
    /// font are refused.
    #[test]
    fn fetched_fonts_are_checked_and_used() {
        assert!(Font::from_bytes(b"not a font").is_err());
        assert!(Font::from_bytes(&[]).is_err());
        assert!(Font::from_bytes(&FONT[..1000]).is_err(), "a truncated font");
        let started = std::time::Instant::now();
        let same = Font::from_bytes(FONT).expect("the bundled font's bytes");
        let glyphs = swash::FontRef::from_index(FONT, 0).map_or(0, |f| f.metrics(&[]).glyph_count);
        eprintln!("font check: {glyphs} glyphs in {:?}", started.elapsed());
        assert_eq!(same.family(), "DejaVu Sans");
        assert_eq!(same.weight(), Weight::BOLD, "its only face");
        assert_eq!(text_mask_in(&same, "Hello", 40.0, 1000), text_mask("Hello", 40.0, 1000));
        // The bundled fonts stand behind a fetched one: emoji in colour, CJK.
        assert!(raster(&same, "ok 🍎", 40.0, 1000).color.is_some());
        assert!(shaped(&same, "中文").iter().all(|g| g.2 != 0 && g.3 == CJK_FAMILY));
    }

    /// (first byte of the glyph's text, x, glyph id, family of the face drawing it) of `text`
    /// shaped on one line in `font`, in visual order.
    fn shaped(font: &Font, text: &str) -> Vec<(usize, f32, u16, String)> {
        let mut guard = font.shaper().lock().expect("shaper");
        let Shaper { fonts, .. } = &mut *guard;
        let mut buffer = Buffer::new(fonts, Metrics::new(40.0, 50.0));
        buffer.set_wrap(Wrap::None);
        font.set_text(&mut buffer, text, None);
        buffer.shape_until_scroll(fonts, false);
        let runs: Vec<Vec<(usize, f32, u16, fontdb::ID)>> = buffer
            .layout_runs()
            .map(|run| run.glyphs.iter().map(|g| (g.start, g.x, g.glyph_id, g.font_id)).collect())
            .collect();
        let family = |id| fonts.db().face(id).and_then(|f| f.families.first()).map_or(String::new(), |f| f.0.clone());
        runs.into_iter().flatten().map(|(start, x, glyph, id)| (start, x, glyph, family(id))).collect()
    }

    /// (first byte of the glyph's text, x, glyph id) of `text` shaped on one line in DejaVu Sans.
    fn glyphs(text: &str) -> Vec<(usize, f32, u16)> {
        shaped(&Font::bundled(), text).into_iter().map(|(start, x, glyph, _)| (start, x, glyph)).collect()
    }
    /// Arabic is shaped right to left with joined forms: the glyph of the first letter is the
    /// rightmost, a letter inside a word takes another glyph than the letter alone, and lam
    /// with alef become one ligature.
    #[test]
    fn arabic_shapes_right_to_left_with_joined_forms() {
        let mut shaped = glyphs("بيت"); // beh, yeh, teh
        shaped.sort_by_key(|g| g.0);
        assert_eq!(shaped.len(), 3, "{shaped:?}");
        assert!(shaped.windows(2).all(|w| w[0].1 > w[1].1), "logical order runs right to left: {shaped:?}");
        let alone = |c: &str| glyphs(c)[0].2;
        assert_ne!(shaped[0].2, alone("ب"), "beh takes its initial form");
        assert_ne!(shaped[1].2, alone("ي"), "yeh takes its medial form");
        assert_ne!(shaped[2].2, alone("ت"), "teh takes its final form");
        assert_eq!(glyphs("سلام").len(), 3, "lam-alef is one glyph");
        // Hebrew has no joining, but reads right to left too.
        let mut hebrew = glyphs("שלום");
        hebrew.sort_by_key(|g| g.0);
        assert!(hebrew.windows(2).all(|w| w[0].1 > w[1].1), "{hebrew:?}");
    }

    #[test]
    fn any_unicode_is_fine() {
        for s in ["", " ", "مرحبا بالعالم", "日本語のテキスト", "🎬🎥", "\u{202e}abc\u{0}", "a\nb\n\n\nc"]
        {
            let layer = text_layer(s, 30.0, 300, [255, 255, 255, 255], ([0, 0, 0, 255], 2.0));
            assert!(layer.width >= 1 && layer.height >= 1);
        }
    }

    /// Which characters are drawn from the colour emoji face.
    #[test]
    fn emoji_ranges_follow_emoji_presentation() {
        let emoji = |t: &str| emoji_ranges(t).into_iter().map(|r| t[r].to_string()).collect::<Vec<_>>();
        assert_eq!(emoji("fire 🔥 now"), ["🔥"]);
        assert_eq!(emoji("love ❤️ and ❤"), ["❤️"], "U+2764 is text unless U+FE0F asks for emoji");
        assert_eq!(emoji("⭐ vs ⭐\u{FE0E}"), ["⭐"], "U+FE0E asks for text");
        assert_eq!(emoji("1️⃣ 2"), ["1️⃣"], "a keycap, not the bare digit");
        assert_eq!(emoji("👍🏽👨‍👩‍👧🇫🇷x"), ["👍🏽👨‍👩‍👧🇫🇷"], "skin tone, joined family, flag: one span");
        assert_eq!(emoji("🇫🇷🇩🇪"), ["🇫🇷🇩🇪"]);
        assert!(emoji("plain text, 123 # * ©").is_empty());
        assert!(emoji("\u{200D}\u{FE0F}").is_empty());
    }

    /// Emoji come from Noto Color Emoji in their own colours (the red of an apple, whatever the
    /// text colour), behind every family; a heart with U+FE0F too, though DejaVu has a heart.
    #[test]
    fn emoji_draw_in_colour_behind_every_family() {
        for family in FontFamily::ALL {
            let font = Font::family_of(family);
            let glyphs = shaped(&font, "A🍎❤️");
            assert_eq!(glyphs.len(), 3, "{glyphs:?}");
            assert_eq!(glyphs[0].3, family.name());
            assert!(glyphs[1..].iter().all(|g| g.3 == EMOJI_FAMILY && g.2 != 0), "{glyphs:?}");
            let layers = text_layers_in(&font, "A🍎", 40.0, 400, &[[255, 255, 255, 255]], ([0, 0, 0, 255], 2.0));
            let red = layers[0].data.chunks_exact(4).filter(|p| p[3] > 200 && p[0] > 180 && p[1] < 80 && p[2] < 80);
            assert!(red.count() > 100, "{family:?}: the apple is red");
        }
        // Without the emoji, no red at all.
        let plain = text_layers_in(&Font::bundled(), "A", 40.0, 400, &[[255; 4]], ([0, 0, 0, 255], 2.0));
        assert!(!plain[0].data.chunks_exact(4).any(|p| p[3] > 200 && p[0] > 180 && p[1] < 80));
        assert!(shaped(&Font::bundled(), "❤")[0].3 == "DejaVu Sans", "text presentation stays in the family");
    }

    /// Chinese, Japanese and Korean have a glyph for every character (none is glyph 0, the
    /// missing-glyph box), from Droid Sans Fallback, behind every family.
    #[test]
    fn cjk_has_no_missing_glyphs() {
        for family in FontFamily::ALL {
            let font = Font::family_of(family);
            let text = "字幕を読む 한국어 自動字幕";
            let glyphs = shaped(&font, text);
            let ink: Vec<_> = glyphs.iter().filter(|g| !text[g.0..].starts_with(' ')).collect();
            assert_eq!(ink.len(), text.chars().filter(|c| *c != ' ').count(), "{glyphs:?}");
            assert!(ink.iter().all(|g| g.2 != 0 && g.3 == CJK_FAMILY), "{family:?}: {glyphs:?}");
        }
        // A character no bundled font has is the missing glyph: the check above can fail.
        assert_eq!(shaped(&Font::bundled(), "\u{E000}")[0].2, 0);
    }

    /// The display family is drawn with its own glyphs: Bebas Neue's condensed capitals are
    /// narrower than DejaVu Sans Bold's at the same size.
    #[test]
    fn the_display_family_is_its_own_face() {
        let bebas = Font::family_of(FontFamily::BebasNeue);
        assert!(shaped(&bebas, "CAPTIONS").iter().all(|g| g.3 == "Bebas Neue" && g.2 != 0));
        let (wb, _, mb) = text_mask_in(&bebas, "CAPTIONS", 60.0, 2000);
        let (wd, _, md) = text_mask_in(&Font::bundled(), "CAPTIONS", 60.0, 2000);
        eprintln!("CAPTIONS at 60 px: Bebas Neue {wb} px wide, DejaVu Sans {wd} px");
        assert!((wb as f32) < 0.75 * wd as f32, "{wb} vs {wd}");
        assert_ne!(mb, md);
    }
}
