//! Caption pages drawn over the frame: words laid out in balanced lines inside the safe area,
//! the spoken word marked (colour, box or pop) on the frames it is spoken.
//!
//! Enter: the plan's [`CaptionPage`]s and the frame size. A page is laid out and rasterized
//! when it first shows and dropped when it ends, so memory holds the pages on screen, not every
//! page of the video. Leave: pixels blended onto the canvas, and a [`CaptionKey`] per frame
//! (which page, which word, how far it has popped) so frames between word changes are still
//! recognised as repeats.

use std::ops::Range;

use super::blend::{blend_layer, fill_rect};
use std::collections::HashMap;

use super::text::{line_width_in, text_layers_in, Font};
use crate::frame::Rgba;
use crate::plan::{CaptionBox, CaptionLook, CaptionPage, VerticalPosition};

/// Largest text drawn (the rasterizer's limit in `text.rs`).
const MAX_FONT_PX: f32 = 400.0;
/// Line height as a multiple of the font size (as in `text.rs`).
const LINE: f32 = 1.25;
/// The gap between words, as a fraction of the font size (about DejaVu Sans Bold's space).
const SPACE: f32 = 0.33;
/// How much a page's text shrinks per try when its words do not fit the safe area.
const SHRINK: f32 = 0.9;
/// Size of a popping word at its first frame, as a fraction of its full size.
const POP_FROM: f32 = 0.8;
/// Margin kept inside the safe area's left and right edges, as a fraction of the frame width.
const SIDE_INSET: f32 = 0.01;
/// Opacity of the drop shadow.
const SHADOW_ALPHA: u32 = 150;

/// What the captions show on a frame: the page on screen (index) and its state (spoken word,
/// pop age); `None` when no caption shows. Equal keys mean equal caption pixels.
pub type CaptionKey = Option<(usize, Option<(usize, u64)>)>;

/// The caption pages of a render and those laid out right now.
pub struct Captions {
    pages: Vec<CaptionPage>,
    /// `reach[i]`: the last end frame among `pages[..=i]` (pages are sorted by start).
    reach: Vec<u64>,
    shown: Vec<(usize, Drawn)>,
    width: u32,
    height: u32,
    /// The fetched `font_url` faces, by URL (a look without one, or whose URL is missing here,
    /// uses its bundled family).
    fonts: HashMap<String, Font>,
}

impl Captions {
    /// The pages of a plan (sorted by start frame) on a `width` x `height` frame.
    pub fn new(pages: Vec<CaptionPage>, width: u32, height: u32) -> Self {
        let reach = pages
            .iter()
            .scan(0u64, |m, p| {
                *m = (*m).max(p.end);
                Some(*m)
            })
            .collect();
        Captions { pages, reach, shown: Vec::new(), width, height, fonts: HashMap::new() }
    }

    /// The fonts the looks' `font_url`s name, fetched and checked by the renderer.
    pub fn with_fonts(mut self, fonts: HashMap<String, Font>) -> Self {
        self.fonts = fonts;
        self
    }

    /// Indexes of the pages on screen at frame `n`.
    fn active(&self, n: u64) -> Vec<usize> {
        let mut out = Vec::new();
        let mut j = self.pages.partition_point(|p| p.start <= n);
        while j > 0 && self.reach[j - 1] > n {
            j -= 1;
            if self.pages[j].active(n) {
                out.push(j);
            }
        }
        out.reverse();
        out
    }

    /// The caption part of frame `n`'s key; `None` when two pages overlap (not keyed).
    pub fn key(&self, n: u64) -> Option<CaptionKey> {
        match self.active(n).as_slice() {
            [] => Some(None),
            [i] => Some(Some((*i, self.pages[*i].state(n)))),
            _ => None,
        }
    }

    /// How many pages are laid out right now (memory check in tests).
    pub fn laid_out(&self) -> usize {
        self.shown.len()
    }

    /// Draw the pages on screen at frame `n`, laying out those that just appeared and
    /// dropping those that ended.
    pub fn draw(&mut self, n: u64, canvas: &mut Rgba) {
        let active = self.active(n);
        self.shown.retain(|(i, _)| active.contains(i));
        for i in active {
            let slot = match self.shown.iter().position(|(j, _)| *j == i) {
                Some(s) => s,
                None => {
                    let page = &self.pages[i];
                    let fetched = page.look.font.as_ref().and_then(|f| self.fonts.get(&f.url)).cloned();
                    let font = fetched.unwrap_or_else(|| Font::family_of(page.look.family));
                    self.shown.push((i, Drawn::new(page, font, self.width, self.height)));
                    self.shown.len() - 1
                }
            };
            let state = self.pages[i].state(n);
            let (_, drawn) = &mut self.shown[slot];
            drawn.draw(&self.pages[i], state, canvas);
        }
    }
}

/// A rectangle in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: i64,
    /// Top edge.
    pub y: i64,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// One word, rasterized: its layers share the top-left corner (`x`, `y`).
struct Ink {
    normal: Rgba,
    /// In the highlight colour, when the look has one.
    marked: Option<Rgba>,
    shadow: Option<Rgba>,
    x: i64,
    y: i64,
    /// The word's cell (with the box padding): where a spoken-word box goes.
    cell: Rect,
}

/// A page laid out and rasterized.
struct Drawn {
    words: Vec<Ink>,
    /// The page box (classic) or one per line (boxed-line).
    boxes: Vec<Rect>,
    font_px: f32,
    shadow_offset: i64,
    /// The popping word at its current state.
    pop: Option<((usize, u64), Rgba)>,
    /// The face the page is set in (the pop redraws its word from it).
    font: Font,
}

/// Where the words of a page go: lines, the font size that fits, and each word's left edge
/// and line top in frame pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The font size used (the look's, or smaller when the words did not fit).
    pub font_px: f32,
    /// Word ranges, one per line.
    pub lines: Vec<Range<usize>>,
    /// Each word's ink width.
    pub widths: Vec<f32>,
    /// Each word's (left, text top).
    pub origin: Vec<(i64, i64)>,
    /// Each word's cell with padding (spoken-word box).
    pub cells: Vec<Rect>,
    /// Page box (classic) or line boxes (boxed-line); empty otherwise.
    pub boxes: Vec<Rect>,
    /// The whole block, padding included: inside the safe area.
    pub block: Rect,
}

/// Padding around the text (x, y) and whether each line has its own band.
fn padding(look: &CaptionLook, px: f32) -> (f32, f32, bool) {
    let edge = look.stroke.1.max(0.0).round() + if look.shadow { shadow_offset(px) as f32 } else { 0.0 };
    let (bx, by, per_line) = match look.boxed {
        CaptionBox::Page => (0.35 * px, 0.35 * px, false),
        CaptionBox::Line => (0.3 * px, 0.1 * px, true),
        CaptionBox::SpokenWord => (0.2 * px, 0.08 * px, true),
        CaptionBox::None => (0.0, 0.0, false),
    };
    ((bx + edge).ceil(), (by + edge).ceil(), per_line)
}

/// The gap between two words' ink: a space, or with spoken-word boxes wide enough that a box
/// never covers its neighbour.
fn word_gap(look: &CaptionLook, px: f32) -> f32 {
    let space = (SPACE * px).round();
    match look.boxed {
        CaptionBox::SpokenWord => space.max(2.0 * padding(look, px).0 + 2.0),
        _ => space,
    }
}

fn shadow_offset(px: f32) -> i64 {
    (px * 0.06).round().max(1.0) as i64
}

/// Break words of `widths` into lines no wider than `avail`, at most `max_lines` (0: any
/// number), the fewest lines that fit, balanced so the widest line is as narrow as possible.
/// None when a word is wider than `avail` or the words need more lines.
pub fn break_lines(widths: &[f32], space: f32, avail: f32, max_lines: u32) -> Option<Vec<Range<usize>>> {
    if widths.is_empty() {
        return Some(Vec::new());
    }
    if widths.iter().any(|w| *w > avail) {
        return None;
    }
    // Greedy: the fewest lines.
    let mut count = 1usize;
    let mut run = -space;
    for w in widths {
        if run + space + w > avail {
            count += 1;
            run = *w;
        } else {
            run += space + w;
        }
    }
    if max_lines > 0 && count > max_lines as usize {
        return None;
    }
    Some(balance(widths, space, count))
}

/// Split into exactly `lines` non-empty lines minimising the widest (dynamic programming).
fn balance(widths: &[f32], space: f32, lines: usize) -> Vec<Range<usize>> {
    let n = widths.len();
    let lines = lines.clamp(1, n);
    let mut prefix = vec![0f32; n + 1];
    for (i, w) in widths.iter().enumerate() {
        prefix[i + 1] = prefix[i] + w;
    }
    let width = |a: usize, b: usize| prefix[b] - prefix[a] + space * (b - a - 1) as f32;
    // best[l][i]: widest line when the first i words make l lines; from[l][i]: where line l starts.
    let mut best = vec![vec![f32::INFINITY; n + 1]; lines + 1];
    let mut from = vec![vec![0usize; n + 1]; lines + 1];
    best[0][0] = 0.0;
    for l in 1..=lines {
        for i in l..=n {
            for j in (l - 1)..i {
                let v = best[l - 1][j].max(width(j, i));
                if v < best[l][i] {
                    best[l][i] = v;
                    from[l][i] = j;
                }
            }
        }
    }
    let mut out = vec![0..0; lines];
    let mut i = n;
    for l in (1..=lines).rev() {
        let j = from[l][i];
        out[l - 1] = j..i;
        i = j;
    }
    out
}

/// Lay out `words` with `look` on a `fw` x `fh` frame: balanced lines that fit the safe area
/// (shrinking the text when they do not), the block placed by position and offset, clamped to
/// the area.
pub fn layout(words: &[&str], look: &CaptionLook, fw: u32, fh: u32) -> Layout {
    layout_in(&Font::bundled(), words, look, fw, fh)
}

/// [`layout`] with the words measured in `font`.
pub fn layout_in(font: &Font, words: &[&str], look: &CaptionLook, fw: u32, fh: u32) -> Layout {
    let area = look.safe_area;
    // A hair inside the area's sides, so encoder ringing at a box edge stays inside too.
    let inset = (fw as f32 * SIDE_INSET).round() as i64;
    let (left, right) =
        ((fw as f32 * area.left).round() as i64 + inset, (fw as f32 * area.right).round() as i64 - inset);
    let (top, bottom) = ((fh as f32 * area.top).round() as i64, (fh as f32 * area.bottom).round() as i64);
    let mut px = if look.font_px.is_finite() { look.font_px.clamp(4.0, MAX_FONT_PX) } else { MAX_FONT_PX };
    let (mut widths, mut lines);
    loop {
        widths = words.iter().map(|w| line_width_in(font, w, px).ceil()).collect::<Vec<f32>>();
        let (pad_x, _, _) = padding(look, px);
        let avail = (right - left) as f32 - 2.0 * pad_x;
        lines = break_lines(&widths, word_gap(look, px), avail, look.max_lines);
        if lines.is_some() || px <= 4.0 {
            break;
        }
        px = (px * SHRINK).max(4.0);
    }
    // Still too wide at the smallest size: a word a line (the rasterizer wraps what is left).
    let lines = lines.unwrap_or_else(|| (0..words.len()).map(|i| i..i + 1).collect());
    let space = word_gap(look, px);
    let (pad_x, pad_y, per_line) = padding(look, px);
    let cell = (px * LINE).ceil();
    let pitch = if per_line { cell + 2.0 * pad_y } else { cell };
    let line_w = |r: &Range<usize>| widths[r.clone()].iter().sum::<f32>() + space * r.len().saturating_sub(1) as f32;
    let levels = word_levels(words);
    let widest = lines.iter().map(line_w).fold(0.0, f32::max);
    let block_w = (widest + 2.0 * pad_x).ceil() as i64;
    let block_h =
        if per_line { lines.len() as f32 * pitch } else { lines.len() as f32 * cell + 2.0 * pad_y }.ceil() as i64;
    let x0 = left + (right - left - block_w) / 2;
    let y = match look.position {
        VerticalPosition::Top => top,
        VerticalPosition::Middle => top + (bottom - top - block_h) / 2,
        VerticalPosition::Bottom => bottom - block_h,
    } - (look.offset * fh as f32).round() as i64;
    // Inside the area; a block taller than the area starts at its top.
    let y0 = y.min(bottom - block_h).max(top.min(fh as i64 - block_h)).max(0);
    let mut origin = vec![(0, 0); words.len()];
    let mut cells = vec![Rect { x: 0, y: 0, w: 0, h: 0 }; words.len()];
    let mut boxes = Vec::new();
    for (li, r) in lines.iter().enumerate() {
        let line_top = y0 as f32 + if per_line { li as f32 * pitch } else { pad_y + li as f32 * cell };
        let text_top = line_top + if per_line { pad_y } else { 0.0 };
        let lw = line_w(r);
        let mut x = x0 as f32 + pad_x + (widest - lw) / 2.0;
        if look.boxed == CaptionBox::Line {
            let rect = Rect {
                x: (x - pad_x).round() as i64,
                y: line_top.round() as i64,
                w: (lw + 2.0 * pad_x) as u32,
                h: pitch as u32,
            };
            boxes.push(rect);
        }
        for k in visual_order(&levels, r.clone()) {
            origin[k] = (x.round() as i64, text_top.round() as i64);
            cells[k] = Rect {
                x: (x - pad_x).round() as i64,
                y: line_top.round() as i64,
                w: (widths[k] + 2.0 * pad_x) as u32,
                h: pitch as u32,
            };
            x += widths[k] + space;
        }
    }
    let block = Rect { x: x0, y: y0, w: block_w.max(0) as u32, h: block_h.max(0) as u32 };
    if look.boxed == CaptionBox::Page {
        boxes.push(block);
    }
    Layout { font_px: px, lines, widths, origin, cells, boxes, block }
}

/// Each word's embedding level under the Unicode bidirectional algorithm (UAX #9), the page's
/// words read as one paragraph (joined by spaces; its direction from its first strong letter):
/// even for left-to-right text, odd for Arabic or Hebrew.
fn word_levels(words: &[&str]) -> Vec<u8> {
    let text = words.join(" ");
    let info = unicode_bidi::BidiInfo::new(&text, None);
    let mut at = 0;
    words
        .iter()
        .map(|w| {
            let level = info.levels.get(at).map_or(0, |l| l.number());
            at += w.len() + 1;
            level
        })
        .collect()
}

/// The words of a line in the order they are drawn, left to right: UAX #9's rule L2 with words
/// as the units (from the highest level down to the lowest odd one, every run of words at that
/// level or higher is reversed). Left-to-right lines keep their order, an Arabic or Hebrew line
/// reads from the right, and a phrase of the other direction keeps its own order inside.
fn visual_order(levels: &[u8], line: Range<usize>) -> Vec<usize> {
    let mut order: Vec<usize> = line.collect();
    let level_of = |k: usize| levels.get(k).copied().unwrap_or(0);
    let highest = order.iter().map(|&k| level_of(k)).max().unwrap_or(0);
    let Some(lowest_odd) = order.iter().map(|&k| level_of(k)).filter(|l| l % 2 == 1).min() else {
        return order;
    };
    for level in (lowest_odd..=highest).rev() {
        let mut i = 0;
        while i < order.len() {
            let start = i;
            while i < order.len() && level_of(order[i]) >= level {
                i += 1;
            }
            order[start..i].reverse();
            i += usize::from(i == start);
        }
    }
    order
}

impl Drawn {
    fn new(page: &CaptionPage, font: Font, fw: u32, fh: u32) -> Self {
        let look = &page.look;
        let texts: Vec<&str> = page.words.iter().map(|w| w.text.as_str()).collect();
        let lay = layout_in(&font, &texts, look, fw, fh);
        let shadow_offset = shadow_offset(lay.font_px);
        let words = texts
            .iter()
            .enumerate()
            .map(|(k, text)| {
                let (x, y) = lay.origin[k];
                let (normal, marked) = word_layers(&font, text, lay.font_px, lay.widths[k], look);
                let shadow = look.shadow.then(|| shadow_of(&normal));
                let s = look.stroke.1.max(0.0).round() as i64;
                Ink { normal, marked, shadow, x: x - s, y: y - s, cell: lay.cells[k] }
            })
            .collect();
        Drawn { words, boxes: lay.boxes, font_px: lay.font_px, shadow_offset, pop: None, font }
    }

    fn draw(&mut self, page: &CaptionPage, state: Option<(usize, u64)>, canvas: &mut Rgba) {
        let look = &page.look;
        if look.box_color[3] > 0 {
            for b in &self.boxes {
                fill_rect(canvas, b.x, b.y, b.w, b.h, look.box_color);
            }
            if let (CaptionBox::SpokenWord, Some((k, _))) = (look.boxed, state) {
                let c = self.words[k].cell;
                fill_rect(canvas, c.x, c.y, c.w, c.h, look.box_color);
            }
        }
        for ink in &self.words {
            if let Some(s) = &ink.shadow {
                blend_layer(canvas, s, ink.x + self.shadow_offset, ink.y + self.shadow_offset, 1.0);
            }
        }
        for (k, ink) in self.words.iter().enumerate() {
            let spoken = state.filter(|(j, _)| *j == k);
            let layer = match spoken {
                Some((_, age)) if age < look.pop_frames => {
                    let stale = self.pop.as_ref().is_none_or(|(s, _)| *s != (k, age));
                    if stale {
                        let scale = POP_FROM + (1.0 - POP_FROM) * age as f32 / look.pop_frames as f32;
                        let (normal, marked) =
                            word_layers(&self.font, &page.words[k].text, self.font_px * scale, f32::INFINITY, look);
                        self.pop = Some(((k, age), marked.unwrap_or(normal)));
                    }
                    let Some((_, small)) = &self.pop else { continue };
                    // Centred on the word's full-size place.
                    let x = ink.x + (ink.normal.width as i64 - small.width as i64) / 2;
                    let y = ink.y + (ink.normal.height as i64 - small.height as i64) / 2;
                    blend_layer(canvas, small, x, y, 1.0);
                    continue;
                }
                Some(_) => ink.marked.as_ref().unwrap_or(&ink.normal),
                None => &ink.normal,
            };
            blend_layer(canvas, layer, ink.x, ink.y, 1.0);
        }
    }
}

/// A word's layer in the text colour and, when the look has one, in the highlight colour.
fn word_layers(font: &Font, text: &str, px: f32, width: f32, look: &CaptionLook) -> (Rgba, Option<Rgba>) {
    let stroke_px = look.stroke.1.max(0.0).round() as u32;
    let width = if width.is_finite() { width } else { line_width_in(font, text, px).ceil() };
    let max_w = width.ceil() as u32 + 4 + 2 * stroke_px;
    let mut colors = vec![look.color];
    colors.extend(look.highlight);
    let mut layers = text_layers_in(font, text, px, max_w, &colors, look.stroke).into_iter();
    let normal = layers.next().unwrap_or_else(|| Rgba::filled(1, 1, [0; 4]));
    (normal, layers.next())
}

/// A black copy of `layer` at the shadow's opacity.
fn shadow_of(layer: &Rgba) -> Rgba {
    let mut out = layer.clone();
    shade_row(&mut out.data);
    out
}

fn shade_row(px: &mut [u8]) {
    for p in px.chunks_exact_mut(4) {
        p[3] = (p[3] as u32 * SHADOW_ALPHA / 255) as u8;
        p[0] = 0;
        p[1] = 0;
        p[2] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FontFamily, SafeArea};
    use std::sync::Arc;

    fn look(boxed: CaptionBox, max_lines: u32) -> CaptionLook {
        CaptionLook {
            font_px: 40.0,
            color: [255; 4],
            highlight: Some([255, 212, 0, 255]),
            boxed,
            box_color: [0, 0, 0, 200],
            stroke: ([0, 0, 0, 255], 3.0),
            shadow: false,
            pop_frames: 0,
            max_lines,
            position: VerticalPosition::Bottom,
            offset: 0.0,
            safe_area: SafeArea { left: 0.06, right: 0.86, top: 0.12, bottom: 0.80 },
            family: FontFamily::DejaVuSans,
            font: None,
        }
    }

    /// Words are drawn in the bidirectional algorithm's order: Arabic and Hebrew lines from
    /// the right, a Hebrew phrase inside an English line in its own order, numbers inside an
    /// Arabic line kept with their neighbours.
    #[test]
    fn right_to_left_words_are_drawn_from_the_right() {
        let order = |words: &[&str]| {
            let levels = word_levels(words);
            visual_order(&levels, 0..words.len())
        };
        assert_eq!(order(&["one", "two", "three"]), vec![0, 1, 2]);
        assert_eq!(order(&["مرحبا", "بالعالم", "اليوم"]), vec![2, 1, 0]);
        assert_eq!(order(&["שלום", "עולם"]), vec![1, 0]);
        assert_eq!(order(&["I", "say", "שלום", "עולם", "today"]), vec![0, 1, 3, 2, 4]);
        assert_eq!(order(&["سنة", "2026", "سعيدة"]), vec![2, 1, 0]);
        assert_eq!(order(&["עברית", "and", "English", "words"]), vec![1, 2, 3, 0]);
        // The layout: an Arabic page's first word is the rightmost.
        let words = ["مرحبا", "بالعالم", "اليوم"];
        let lay = layout(&words, &look(CaptionBox::None, 1), 480, 854);
        assert!(lay.origin[0].0 > lay.origin[1].0 && lay.origin[1].0 > lay.origin[2].0, "{:?}", lay.origin);
    }

    #[test]
    fn lines_are_the_fewest_that_fit_and_balanced() {
        // Greedy would put 3 + 1; balanced is 2 + 2.
        let lines = break_lines(&[10.0, 10.0, 10.0, 10.0], 2.0, 34.0, 0).expect("fits");
        assert_eq!(lines, vec![0..2, 2..4]);
        let one = break_lines(&[10.0, 10.0, 10.0], 2.0, 40.0, 0).expect("fits");
        assert_eq!((one.len(), one[0].clone()), (1, 0..3), "fits on one line");
        assert_eq!(break_lines(&[10.0; 4], 2.0, 22.0, 1), None, "needs 2 lines, 1 allowed");
        assert_eq!(break_lines(&[50.0], 2.0, 40.0, 3), None, "a word wider than the area");
        assert_eq!(break_lines(&[], 2.0, 40.0, 1), Some(vec![]));
    }

    #[test]
    fn a_page_that_does_not_fit_its_lines_shrinks_and_stays_in_the_area() {
        let words = ["Captions", "people", "actually", "read", "all", "day", "long", "everywhere"];
        for max_lines in [1, 2, 3] {
            let l = layout(&words, &look(CaptionBox::Line, max_lines), 360, 640);
            assert!(l.lines.len() <= max_lines as usize, "{max_lines}: {:?}", l.lines);
            let b = l.block;
            assert!(b.x >= (360.0 * 0.06f32).round() as i64 && b.x + b.w as i64 <= (360.0 * 0.86f32).round() as i64);
            assert!(b.y >= (640.0 * 0.12f32).round() as i64 && b.y + b.h as i64 <= (640.0 * 0.80f32).round() as i64);
            for r in &l.boxes {
                assert!(r.x >= b.x && r.x + r.w as i64 <= b.x + b.w as i64 + 1, "line box inside the block");
            }
        }
        let one = layout(&words, &look(CaptionBox::Line, 1), 360, 640);
        let three = layout(&words, &look(CaptionBox::Line, 3), 360, 640);
        assert!(one.font_px < three.font_px, "one line needs smaller text: {} vs {}", one.font_px, three.font_px);
    }

    #[test]
    fn offset_moves_up_but_not_out_of_the_area() {
        let mut l = look(CaptionBox::None, 2);
        let base = layout(&["hello"], &l, 360, 640).block;
        l.offset = 0.1;
        let up = layout(&["hello"], &l, 360, 640).block;
        assert_eq!(base.y - up.y, 64);
        l.offset = -0.5;
        assert_eq!(layout(&["hello"], &l, 360, 640).block.y, base.y, "the bottom edge holds");
        l.position = VerticalPosition::Top;
        l.offset = 0.5;
        assert_eq!(layout(&["hello"], &l, 360, 640).block.y, (640.0 * 0.12f32).round() as i64, "the top edge holds");
    }

    fn page(words: &[(&str, u64, u64)], look: CaptionLook) -> CaptionPage {
        let words: Vec<_> = words
            .iter()
            .map(|(t, s, e)| crate::plan::CaptionWord { text: t.to_string(), start: *s, end: *e })
            .collect();
        CaptionPage { start: words[0].start, end: words[words.len() - 1].end, words, look: Arc::new(look) }
    }

    #[test]
    fn pages_are_laid_out_while_shown_and_keyed_by_spoken_word() {
        let l = look(CaptionBox::None, 2);
        let pages = vec![page(&[("one", 0, 5), ("two", 5, 10)], l.clone()), page(&[("three", 12, 20)], l)];
        let mut c = Captions::new(pages, 360, 640);
        let mut canvas = Rgba::filled(360, 640, [0, 0, 0, 255]);
        assert_eq!(c.key(0), Some(Some((0, Some((0, 0))))));
        assert_eq!(c.key(4), c.key(0), "same word: a repeat");
        assert_ne!(c.key(5), c.key(4), "the next word changes the key");
        assert_eq!(c.key(11), Some(None), "between pages");
        c.draw(3, &mut canvas);
        assert_eq!(c.laid_out(), 1);
        c.draw(11, &mut canvas);
        assert_eq!(c.laid_out(), 0, "dropped when it ends");
        c.draw(12, &mut canvas);
        assert_eq!(c.laid_out(), 1);
    }
}
