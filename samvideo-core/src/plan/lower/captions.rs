//! Captions (`docs/captions.md`, `docs/timing.md` "Captions"): transcript entries and caption
//! elements become pages of timed words with a resolved look.
//!
//! Enter: the [`TimelineSpec`]'s caption tracks (seconds, preset, styling overrides), the
//! frame's short side and the video's frame count. Leave: [`CaptionPage`]s in frames and
//! pixels, ordered by their first frame.
//!
//! Word timing: an entry's text (each timed part of a subtitle cue) is split at whitespace
//! and its span shared among the words in proportion to their characters. Paging: at most `max_words` words a page, and a page never
//! spans a pause longer than [`MAX_PAUSE_SECONDS`]; `classic` keeps one page per entry.

use std::sync::Arc;

use super::overlays::caption_safe_area;
use super::spec::{parse_color, vertical, CaptionEntry, CaptionTrack, TimedText, TimelineSpec};
use super::LowerError;
use crate::frame_rate::FrameRate;
use crate::plan::{CaptionBox, CaptionLook, CaptionPage, CaptionWord, FontFamily, MediaRef, VerticalPosition};
use crate::request::CaptionPreset;

/// A page never spans a pause between words longer than this (seconds).
pub const MAX_PAUSE_SECONDS: f64 = 0.5;
/// How long the `pop` preset's spoken word takes to grow to full size (seconds).
pub const POP_SECONDS: f64 = 0.12;

/// Caption text size limits in output pixels (what the rasterizer draws).
const MIN_FONT_PX: f32 = 4.0;
const MAX_FONT_PX: f32 = 400.0;
/// The outline is at most this share of the text size (a wider one would only be a blot, and
/// costs its square in compositing).
const MAX_STROKE_OF_FONT: f32 = 0.25;

/// A word and its time span in seconds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TimedWord {
    pub text: String,
    pub start: f64,
    pub end: f64,
}

/// Split `text` at whitespace into words sharing `start..end` in proportion to their
/// characters (Unicode scalar values): "a bcd" over 0..4 s is "a" 0..1, "bcd" 1..4.
pub(super) fn split_words(text: &str, start: f64, end: f64) -> Vec<TimedWord> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let total: usize = words.iter().map(|w| w.chars().count()).sum();
    let span = (end - start).max(0.0);
    let mut done = 0usize;
    words
        .into_iter()
        .map(|w| {
            let at = |chars: usize| start + span * chars as f64 / total.max(1) as f64;
            let t0 = at(done);
            done += w.chars().count();
            TimedWord { text: w.to_string(), start: t0, end: at(done) }
        })
        .collect()
}

/// Group words (in time order) into pages of at most `max_words`, breaking at every pause
/// longer than [`MAX_PAUSE_SECONDS`]. Returns index ranges into `words`.
pub(super) fn pages(words: &[TimedWord], max_words: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut first = 0;
    for i in 1..=words.len() {
        let brk =
            i == words.len() || i - first >= max_words.max(1) || words[i].start - words[i - 1].end > MAX_PAUSE_SECONDS;
        if brk && i > first {
            out.push(first..i);
            first = i;
        }
    }
    out
}

/// The preset's defaults: page size, look (sizes in pixels at a 1080 short side).
struct Preset {
    max_words: usize,
    max_lines: u32,
    font_1080: f32,
    color: [u8; 4],
    highlight: Option<[u8; 4]>,
    boxed: CaptionBox,
    box_color: [u8; 4],
    stroke_1080: f32,
    pop: bool,
}

const WHITE: [u8; 4] = [255, 255, 255, 255];
/// `highlight`'s default spoken-word colour, `#FFD400`.
pub const HIGHLIGHT_COLOR: [u8; 4] = [0xFF, 0xD4, 0x00, 0xFF];
/// `boxed-word`'s default box behind the spoken word, `#FF2D55`.
pub const SPOKEN_BOX_COLOR: [u8; 4] = [0xFF, 0x2D, 0x55, 0xFF];

fn preset(p: CaptionPreset, classic_font_1080: f32) -> Preset {
    let word = Preset {
        max_words: 4,
        max_lines: 2,
        font_1080: 72.0,
        color: WHITE,
        highlight: None,
        boxed: CaptionBox::None,
        box_color: [0, 0, 0, 0],
        stroke_1080: 6.0,
        pop: false,
    };
    match p {
        CaptionPreset::Classic => Preset {
            max_words: usize::MAX,
            max_lines: 0,
            font_1080: classic_font_1080,
            boxed: CaptionBox::Page,
            box_color: [0, 0, 0, 160],
            stroke_1080: 0.0,
            ..word
        },
        CaptionPreset::BoxedLine => {
            Preset { max_words: 6, boxed: CaptionBox::Line, box_color: [0, 0, 0, 191], stroke_1080: 0.0, ..word }
        }
        CaptionPreset::BoxedWord => {
            Preset { boxed: CaptionBox::SpokenWord, box_color: SPOKEN_BOX_COLOR, stroke_1080: 4.0, ..word }
        }
        CaptionPreset::Highlight => Preset { highlight: Some(HIGHLIGHT_COLOR), ..word },
        CaptionPreset::OneWord => Preset { max_words: 1, max_lines: 1, font_1080: 90.0, ..word },
        CaptionPreset::Pop => Preset { max_words: 3, pop: true, ..word },
    }
}

/// Step 6b. Every caption page of the video, by first frame.
pub(super) fn captions(spec: &TimelineSpec, short_px: f32, frame_count: u64) -> Result<Vec<CaptionPage>, LowerError> {
    let mut out = Vec::new();
    for track in &spec.captions {
        out.extend(track_pages(track, spec, short_px, frame_count)?);
    }
    out.sort_by_key(|p| p.start);
    Ok(out)
}

fn track_pages(
    track: &CaptionTrack,
    spec: &TimelineSpec,
    short_px: f32,
    frame_count: u64,
) -> Result<Vec<CaptionPage>, LowerError> {
    let (look, max_words, uppercase) = resolve_look(track, spec, short_px)?;
    let fps = spec.fps;
    let video_end = fps.secs_of(frame_count);
    let timed = |entry: &CaptionEntry| {
        let part = |(text, start, end): &TimedText| {
            let text = if uppercase { text.to_uppercase() } else { text.clone() };
            split_words(&text, start.max(0.0), end.unwrap_or(video_end).max(start.max(0.0)))
        };
        entry.iter().flat_map(part).collect::<Vec<_>>()
    };
    let look = Arc::new(look);
    let mut pages_out = Vec::new();
    if track.preset == CaptionPreset::Classic {
        // One page per entry (split further only by `max_words`), on today's frames.
        for entry in &track.entries {
            let words = timed(entry);
            for range in pages(&words, max_words) {
                pages_out.extend(page(&words[range], &look, fps, frame_count, None));
            }
        }
    } else {
        // Word presets: the words of all entries in time order; a page may join entries.
        let mut words: Vec<TimedWord> = track.entries.iter().flat_map(timed).collect();
        words.sort_by(|a, b| a.start.total_cmp(&b.start));
        let ranges = pages(&words, max_words);
        for (i, range) in ranges.iter().enumerate() {
            // A page holds until the next one when the pause between them is short.
            let next = ranges.get(i + 1).map(|r| words[r.start].start);
            let hold = next.filter(|t| t - words[range.end - 1].end <= MAX_PAUSE_SECONDS);
            pages_out.extend(page(&words[range.clone()], &look, fps, frame_count, hold));
        }
    }
    Ok(pages_out)
}

/// A page of `words` in frames (None when it has no frame before the video's end).
fn page(
    words: &[TimedWord],
    look: &Arc<CaptionLook>,
    fps: FrameRate,
    frame_count: u64,
    hold_until: Option<f64>,
) -> Option<CaptionPage> {
    let first = words.first()?;
    let last = words.last()?;
    let start = fps.frames_in(first.start).min(frame_count);
    let end = fps.frames_in(hold_until.unwrap_or(last.end).max(last.end)).min(frame_count);
    let words = words
        .iter()
        .map(|w| CaptionWord {
            text: w.text.clone(),
            start: fps.frames_in(w.start).min(frame_count),
            end: fps.frames_in(w.end).min(frame_count),
        })
        .collect();
    (end > start).then(|| CaptionPage { words, start, end, look: Arc::clone(look) })
}

/// The preset's look with the track's overrides, at the output size; the page size and
/// whether to draw capitals.
fn resolve_look(
    track: &CaptionTrack,
    spec: &TimelineSpec,
    short_px: f32,
) -> Result<(CaptionLook, usize, bool), LowerError> {
    let s = &track.styling;
    let p = preset(track.preset, track.classic_font_1080);
    let color = |v: &Option<String>, name: &str| -> Result<Option<[u8; 4]>, LowerError> {
        v.as_deref().map(|c| parse_color(c, &format!("{}.{name}", track.field))).transpose()
    };
    let px = |v_1080: f32| v_1080 * short_px / 1080.0;
    let stroke_color = color(&s.stroke_color, "stroke_color")?;
    let stroke_1080 = match (s.stroke_width, stroke_color) {
        (Some(w), _) => w as f32,
        // A colour without a width: the preset's outline, or 3 px where it has none.
        (None, Some(_)) if p.stroke_1080 == 0.0 => 3.0,
        (None, _) => p.stroke_1080,
    };
    let max_words = match track.preset {
        CaptionPreset::OneWord => 1,
        _ => s.max_words.map_or(p.max_words, |m| m as usize),
    };
    let font_px = px(s.font_size.map_or(p.font_1080, |f| f as f32)).clamp(MIN_FONT_PX, MAX_FONT_PX);
    let family = match s.font_family.as_deref() {
        None => FontFamily::default(),
        Some(name) => FontFamily::named(name).ok_or_else(|| LowerError::FontFamily {
            field: format!("{}.font_family", track.field),
            value: name.to_string(),
        })?,
    };
    let look = CaptionLook {
        font_px,
        color: color(&s.text_color, "text_color")?.unwrap_or(p.color),
        highlight: color(&s.highlight_color, "highlight_color")?.or(p.highlight),
        boxed: p.boxed,
        box_color: color(&s.background_color, "background_color")?.unwrap_or(p.box_color),
        stroke: (stroke_color.unwrap_or([0, 0, 0, 255]), px(stroke_1080).min(font_px * MAX_STROKE_OF_FONT)),
        shadow: s.shadow.unwrap_or(false),
        pop_frames: if p.pop { spec.fps.frames_in(POP_SECONDS).max(1) } else { 0 },
        max_lines: s.max_lines.unwrap_or(p.max_lines),
        position: s.position.map_or(VerticalPosition::Bottom, vertical),
        offset: s.offset_percent.map_or(0.0, |o| o as f32 / 100.0),
        safe_area: caption_safe_area(spec.aspect),
        family,
        font: s.font_url.clone().map(|url| MediaRef { label: track.font_label(), url }),
    };
    Ok((look, max_words, s.uppercase.unwrap_or(false)))
}
