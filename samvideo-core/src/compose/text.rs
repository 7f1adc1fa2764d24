//! Text to pixels: shaping and wrapping with cosmic-text over a font bundled in the crate
//! (DejaVu Sans Bold, licence in `assets/fonts/`), so output is identical on every machine, or
//! over a caption's `font_url` ([`Font::from_bytes`], with DejaVu behind it).
//!
//! Enter: a string, a pixel size, a wrap width and colours (and a [`Font`] for the `*_in`
//! forms). Leave: an [`Rgba`] layer tightly around the (centred) text, with an optional
//! outline. Characters the font lacks render as its replacement glyph; no input makes this
//! panic, font bytes included (fuzzed: `fuzz/fuzz_targets/fuzz_font.rs`).

use std::sync::{Arc, Mutex, OnceLock};

use cosmic_text::{Attrs, Buffer, Color, Family, FontSystem, Metrics, Shaping, SwashCache, Wrap};

use crate::frame::Rgba;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

struct Shaper {
    fonts: FontSystem,
    cache: SwashCache,
}

/// The bundled family's name.
const BUNDLED_FAMILY: &str = "DejaVu Sans";

fn shaper() -> &'static Mutex<Shaper> {
    static SHAPER: OnceLock<Mutex<Shaper>> = OnceLock::new();
    SHAPER.get_or_init(|| {
        let mut db = cosmic_text::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        Mutex::new(Shaper { fonts: FontSystem::new_with_locale_and_db("en-US".into(), db), cache: SwashCache::new() })
    })
}

/// A typeface text is set in: the bundled DejaVu Sans Bold, or a font a request fetched
/// (`font_url`), with its own shaper and DejaVu behind it for characters it lacks. Cheap to
/// clone (shared).
#[derive(Clone, Default)]
pub struct Font(Option<Arc<Fetched>>);

struct Fetched {
    shaper: Mutex<Shaper>,
    family: String,
}

/// Why font bytes cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a TrueType or OpenType font")]
pub struct NotAFont;

impl Font {
    /// The bundled font.
    pub fn bundled() -> Font {
        Font(None)
    }

    /// A font from its file's bytes (TTF, OTF or a collection's first face), checked by
    /// parsing its tables (ttf-parser, through fontdb): bytes that hold no usable face are
    /// refused, whatever they are.
    pub fn from_bytes(bytes: &[u8]) -> Result<Font, NotAFont> {
        let mut db = cosmic_text::fontdb::Database::new();
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
        db.load_font_data(FONT.to_vec());
        let fonts = FontSystem::new_with_locale_and_db("en-US".into(), db);
        Ok(Font(Some(Arc::new(Fetched { shaper: Mutex::new(Shaper { fonts, cache: SwashCache::new() }), family }))))
    }

    /// The family name text is set in.
    pub fn family(&self) -> &str {
        self.0.as_ref().map_or(BUNDLED_FAMILY, |f| f.family.as_str())
    }

    fn shaper(&self) -> &Mutex<Shaper> {
        match &self.0 {
            Some(f) => &f.shaper,
            None => shaper(),
        }
    }
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

/// Coverage mask of wrapped, centred text: `(width, height, alpha bytes)`.
pub fn text_mask(text: &str, font_px: f32, max_width: u32) -> (u32, u32, Vec<u8>) {
    text_mask_in(&Font::bundled(), text, font_px, max_width)
}

/// [`text_mask`] in `font`.
pub fn text_mask_in(font: &Font, text: &str, font_px: f32, max_width: u32) -> (u32, u32, Vec<u8>) {
    let font_px = font_px.clamp(4.0, 400.0);
    let mut guard = match font.shaper().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let Shaper { fonts, cache } = &mut *guard;
    let mut buffer = Buffer::new(fonts, Metrics::new(font_px, (font_px * 1.25).ceil()));
    buffer.set_wrap(Wrap::WordOrGlyph);
    buffer.set_size(Some(max_width.max(1) as f32), None);
    let attrs = Attrs::new().family(Family::Name(font.family()));
    buffer.set_text(text, &attrs, Shaping::Advanced, Some(cosmic_text::Align::Center));
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
    buffer.draw(fonts, cache, Color::rgb(255, 255, 255), |x, y, gw, gh, color| {
        let a = color.a();
        for yy in y..y + gh as i32 {
            for xx in x..x + gw as i32 {
                if xx >= 0 && yy >= 0 && (xx as u32) < w && (yy as u32) < h {
                    let m = &mut mask[(yy as u32 * w + xx as u32) as usize];
                    *m = (*m).max(a);
                }
            }
        }
    });
    // Crop to the inked columns so boxes hug the text.
    let (x0, x1) = if min_x <= max_x && min_x != f32::MAX {
        ((min_x.floor().max(0.0)) as u32, (max_x.ceil() as u32).min(w))
    } else {
        (0, 0)
    };
    let cw = x1.saturating_sub(x0).max(1);
    let mut out = vec![0u8; (cw * h) as usize];
    for y in 0..h {
        let src = &mask[(y * w + x0.min(w - 1)) as usize..][..cw.min(w - x0.min(w - 1)) as usize];
        out[(y * cw) as usize..][..src.len()].copy_from_slice(src);
    }
    (cw, h, out)
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
    let (mw, mh, mask) = text_mask_in(font, text, font_px, max_width.saturating_sub(2 * stroke_px).max(1));
    let (w, h) = (mw + 2 * stroke_px, mh + 2 * stroke_px);
    let mut padded = vec![0u8; (w * h) as usize];
    for y in 0..mh {
        let dst = ((y + stroke_px) * w + stroke_px) as usize;
        padded[dst..dst + mw as usize].copy_from_slice(&mask[(y * mw) as usize..][..mw as usize]);
    }
    let outline = if stroke_px > 0 && stroke.0[3] > 0 { Some(dilate(&padded, w, h, stroke_px)) } else { None };
    colors
        .iter()
        .map(|&color| {
            let mut layer = Rgba { width: w, height: h, data: vec![0; (w * h * 4) as usize] };
            paint_row(&mut layer.data, &padded, outline.as_deref(), color, stroke.0);
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
    let attrs = Attrs::new().family(Family::Name(font.family()));
    buffer.set_text(text, &attrs, Shaping::Advanced, None);
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
        assert_eq!(text_mask_in(&same, "Hello", 40.0, 1000), text_mask("Hello", 40.0, 1000));
    }

    /// (first byte of the glyph's text, x, glyph id) of `text` shaped on one line.
    fn glyphs(text: &str) -> Vec<(usize, f32, u16)> {
        let mut guard = shaper().lock().expect("shaper");
        let Shaper { fonts, .. } = &mut *guard;
        let mut buffer = Buffer::new(fonts, Metrics::new(40.0, 50.0));
        buffer.set_wrap(Wrap::None);
        let attrs = Attrs::new().family(Family::Name(BUNDLED_FAMILY));
        buffer.set_text(text, &attrs, Shaping::Advanced, None);
        buffer.shape_until_scroll(fonts, false);
        buffer
            .layout_runs()
            .flat_map(|run| run.glyphs.iter().map(|g| (g.start, g.x, g.glyph_id)).collect::<Vec<_>>())
            .collect()
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
}
