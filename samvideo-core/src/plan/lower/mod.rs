//! Lowering: a validated request -> the render plan. Every default and timing rule lives
//! here, once (documented in `docs/timing.md`).
//!
//! Enter: a [`CreateRequest`] and the durations of its audio/video media (probed by the
//! renderer after fetching). Leave: a frame-exact [`RenderPlan`].

use serde_json::Value;

use super::*;
use crate::media::limits::Limits;
use crate::media::MediaError;
use crate::request::{
    AdvancedVideo, AspectRatio, BackgroundKind, CreateRequest, MediaItem, MediaKind, Quality, Settings, TextBackground,
};

/// Seconds an image shows when neither the item nor `settings.image_duration` say.
pub const DEFAULT_IMAGE_SECONDS: f64 = 3.0;
/// Transition length when `transition_type` is set without `transition_duration`.
pub const DEFAULT_TRANSITION_SECONDS: f64 = 0.5;
/// When images share a voice-over, the video ends this long after the voice (plus whole-frame
/// rounding: under a frame without transitions, a few frames with them).
pub const VOICE_TAIL_SECONDS: f64 = 0.5;
/// Frames per second when none is asked.
pub const DEFAULT_FPS: FrameRate = FrameRate::whole(30);
/// Longest preview.
pub const PREVIEW_SECONDS: f64 = 10.0;

/// Why a valid request cannot become a plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LowerError {
    /// A video or audio item's length could not be determined.
    #[error("{item} ({url}): cannot determine the media duration")]
    UnknownDuration {
        /// Item label.
        item: String,
        /// URL.
        url: String,
    },
    /// The job exceeds a limit of [`LowerOptions::limits`] (output length, clip count).
    #[error("{0}")]
    Limit(MediaError),
    /// A colour string does not parse.
    #[error("{field}: invalid colour {value:?} (expected #RRGGBB or #RRGGBBAA)")]
    BadColor {
        /// Field path.
        field: String,
        /// What was sent.
        value: String,
    },
}

/// Options that change the plan.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    /// Preview: short side 480, at most `PREVIEW_SECONDS` (10 s), fastest preset.
    pub preview: bool,
    /// The operator's limits: `max_output_seconds` and `max_clips` are enforced here, once,
    /// for every endpoint (`Limits::default()`: 600 s, 100 clips).
    pub limits: Limits,
}

/// What a duration is asked for: the caller probes the URL as that kind of media, so a
/// failure names the right problem (a video item's unsupported codec, not "no audio").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationOf {
    /// A visual item of type `video`: the video track's length.
    Video,
    /// The voice-over: the audio's length.
    Audio,
}

/// Lower `request` into a plan. `duration_of(url, kind)` answers the length in seconds of an
/// audio or video URL (None when unknown).
pub fn lower(
    request: &CreateRequest,
    duration_of: &dyn Fn(&str, DurationOf) -> Option<f64>,
    options: &LowerOptions,
) -> Result<RenderPlan, LowerError> {
    let spec = TimelineSpec::from_request(request)?;
    options.limits.check_clips(spec.items.len()).map_err(LowerError::Limit)?;
    build(spec, duration_of, options)
}

/// The endpoint-independent description the plan is built from.
struct TimelineSpec {
    aspect: AspectRatio,
    short_side: u32,
    quality: Quality,
    fps: FrameRate,
    items: Vec<(String, MediaItem)>,
    settings: Settings,
    /// loop-video: repeat the items until this many seconds.
    loop_to: Option<f64>,
    voice: Option<(String, String, f32)>,
    music: Option<MusicSpec>,
    captions: Vec<Overlay>,
    /// Advanced captions in seconds (converted once fps is known).
    timed_text: Vec<(String, TextStyle, f64, Option<f64>)>,
    background: Background,
}

struct MusicSpec {
    label: String,
    url: String,
    gain: Option<f32>,
    looped: bool,
}

impl TimelineSpec {
    fn from_request(request: &CreateRequest) -> Result<Self, LowerError> {
        let label_items = |field: &str, items: &[MediaItem]| {
            items.iter().enumerate().map(|(i, m)| (format!("{field}[{i}]"), m.clone())).collect::<Vec<_>>()
        };
        let core = |settings: &Settings, items: &[MediaItem]| TimelineSpec {
            aspect: settings.aspect_ratio.unwrap_or_default(),
            short_side: short_side(settings.output_quality.unwrap_or_default()),
            quality: settings.output_quality.unwrap_or_default(),
            fps: settings.fps.unwrap_or(DEFAULT_FPS),
            items: label_items("media_list", items),
            settings: settings.clone(),
            loop_to: None,
            voice: None,
            music: None,
            captions: Vec::new(),
            timed_text: Vec::new(),
            background: Background::Color([0, 0, 0]),
        };
        Ok(match request {
            CreateRequest::Simple(r) => core(&r.settings, &r.media_list),
            CreateRequest::Mix(r) => {
                let mut spec = core(&r.settings, &r.media_list);
                spec.voice = r.voice_url.clone().map(|u| ("voice_url".into(), u, 1.0));
                spec.music = r.background_url.clone().map(|url| MusicSpec {
                    label: "background_url".into(),
                    url,
                    gain: r.settings.audio_volume.map(|v| v as f32),
                    looped: r.settings.loop_audio.unwrap_or(false),
                });
                for t in &r.transcripts {
                    spec.timed_text.push((t.words.clone(), caption_style(), t.start, Some(t.end - t.start)));
                }
                spec
            }
            CreateRequest::Loop(r) => {
                let mut spec = core(&r.settings, &r.media_list);
                spec.loop_to = r.duration;
                spec.music = Some(MusicSpec {
                    label: "background_url".into(),
                    url: r.background_url.clone(),
                    gain: r.settings.audio_volume.map(|v| v as f32),
                    looped: r.settings.loop_audio.unwrap_or(true),
                });
                spec
            }
            CreateRequest::Advanced(r) => advanced_spec(r)?,
        })
    }
}

fn short_side(q: Quality) -> u32 {
    match q {
        Quality::Low => 480,
        Quality::Medium => 720,
        Quality::High => 1080,
    }
}

fn preset(q: Quality) -> EncodePreset {
    match q {
        Quality::Low => EncodePreset { speed: 10, quantizer: 140 },
        Quality::Medium => EncodePreset { speed: 10, quantizer: 110 },
        Quality::High => EncodePreset { speed: 9, quantizer: 90 },
    }
}

fn caption_style() -> TextStyle {
    TextStyle {
        font_px: 0.0, // set from the frame size in `build`
        color: [255, 255, 255, 255],
        box_color: [0, 0, 0, 160],
        full_band: false,
        stroke: ([0, 0, 0, 255], 0.0),
        position: VerticalPosition::Bottom,
    }
}

fn advanced_spec(r: &AdvancedVideo) -> Result<TimelineSpec, LowerError> {
    let out = &r.output_settings;
    let quality = r.render_options.quality.unwrap_or_default();
    let short = out.resolution.map(|r| r.short_side()).unwrap_or(720);
    let background = match &r.media_inputs.background {
        None => Background::Color([0, 0, 0]),
        Some(bg) => match bg.kind {
            BackgroundKind::Color => {
                let c = parse_color(&bg.value, "media_inputs.background.value")?;
                Background::Color([c[0], c[1], c[2]])
            }
            BackgroundKind::Image => {
                Background::Image(MediaRef { label: "media_inputs.background".into(), url: bg.value.clone() })
            }
            BackgroundKind::Video => {
                Background::Video(MediaRef { label: "media_inputs.background".into(), url: bg.value.clone() })
            }
        },
    };
    let mut timed_text = Vec::new();
    for (i, c) in r.caption_elements.iter().enumerate() {
        let field = |f: &str| format!("caption_elements[{i}].styling.{f}");
        let s = &c.styling;
        let mut style = caption_style();
        // font_size is in pixels at a 1080 short side; scaled to the output in `build`.
        style.font_px = -(s.font_size.unwrap_or(42.0) as f32);
        if let Some(col) = &s.text_color {
            style.color = parse_color(col, &field("text_color"))?;
        }
        if let Some(col) = &s.background_color {
            style.box_color = parse_color(col, &field("background_color"))?;
        }
        if let Some(col) = &s.stroke_color {
            style.stroke.0 = parse_color(col, &field("stroke_color"))?;
            style.stroke.1 = -(s.stroke_width.unwrap_or(3.0) as f32);
        } else if let Some(w) = s.stroke_width {
            style.stroke.1 = -(w as f32);
        }
        if let Some(p) = s.position {
            style.position = p;
        }
        timed_text.push((c.text_content.clone(), style, c.start_time, c.duration));
    }
    let audio = &r.audio_settings;
    Ok(TimelineSpec {
        aspect: out.aspect_ratio.unwrap_or_default(),
        short_side: short,
        quality,
        fps: out.framerate.unwrap_or(DEFAULT_FPS),
        items: r
            .media_inputs
            .main_clips
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("media_inputs.main_clips[{i}]"), m.clone()))
            .collect(),
        settings: Settings::default(),
        loop_to: None,
        voice: audio.voice_over_url.clone().map(|u| {
            let gain = audio.voice_over_volume_percent.unwrap_or(100.0) / 100.0;
            ("audio_settings.voice_over_url".into(), u, gain as f32)
        }),
        music: audio.background_music_url.clone().map(|url| MusicSpec {
            label: "audio_settings.background_music_url".into(),
            url,
            gain: audio.background_music_volume_percent.map(|p| (p / 100.0) as f32),
            looped: true,
        }),
        captions: Vec::new(),
        timed_text,
        background,
    })
}

/// `#RRGGBB` or `#RRGGBBAA` -> RGBA.
pub fn parse_color(s: &str, field: &str) -> Result<[u8; 4], LowerError> {
    let bad = || LowerError::BadColor { field: field.to_string(), value: s.to_string() };
    let hex = s.strip_prefix('#').ok_or_else(bad)?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
    let a = if hex.len() == 8 { byte(6)? } else { 255 };
    Ok([byte(0)?, byte(2)?, byte(4)?, a])
}

fn extra_f64(item: &MediaItem, key: &str) -> Option<f64> {
    item.extra.get(key).and_then(Value::as_f64).filter(|v| v.is_finite())
}

/// Frames of a timeline of clips `lens` joined by transitions of `want_tf` frames, each
/// clamped to half of both neighbours (as step 4 of [`build`] places them).
fn timeline_frames(lens: &[u64], want_tf: u64) -> u64 {
    let overlaps: u64 = lens.windows(2).map(|w| want_tf.min(w[0] / 2).min(w[1] / 2)).sum();
    lens.iter().sum::<u64>().saturating_sub(overlaps)
}

/// Whole-frame lengths for the clips at `open` (the images sharing a voice-over) so the
/// timeline is at least `target` frames, and as short as that allows: the fewest frames in
/// total, spread evenly (the first images get the extra frame), at least one each.
fn share_frames(lens: &[u64], open: &[usize], target: u64, want_tf: u64) -> Vec<u64> {
    let n = open.len().max(1) as u64;
    let mut lens = lens.to_vec();
    let fixed: u64 = lens.iter().enumerate().filter(|(i, _)| !open.contains(i)).map(|(_, l)| *l).sum();
    // Start from no overlap; each transition can take back at most `want_tf` frames.
    let mut total = target.saturating_sub(fixed).max(n);
    let most = total + want_tf * lens.len() as u64 + n;
    loop {
        for (k, &i) in open.iter().enumerate() {
            lens[i] = total / n + u64::from((k as u64) < total % n);
        }
        if timeline_frames(&lens, want_tf) >= target || total >= most {
            return open.iter().map(|&i| lens[i]).collect();
        }
        total += 1;
    }
}

/// One visual item before it is placed on the timeline.
struct Pending {
    label: String,
    item: MediaItem,
    seconds: f64,
    source: ClipSource,
}

fn build(
    spec: TimelineSpec,
    duration_of: &dyn Fn(&str, DurationOf) -> Option<f64>,
    options: &LowerOptions,
) -> Result<RenderPlan, LowerError> {
    let s = &spec.settings;
    let (short, quality) = if options.preview { (480, Quality::Low) } else { (spec.short_side, spec.quality) };
    let (width, height) = frame_size(spec.aspect, short);
    let fps = spec.fps;
    let unknown =
        |label: &str, url: &str| LowerError::UnknownDuration { item: label.to_string(), url: url.to_string() };

    // 1. Seconds per item. item.duration > settings.image_duration > shared voice > 3 s.
    let loop_video = s.loop_video.unwrap_or(false) || spec.loop_to.is_some();
    let video_loop = s.video_loop_duration.filter(|d| *d > 0.0 && s.loop_video == Some(true));
    let mut pending = Vec::new();
    for (label, item) in &spec.items {
        let explicit = item.duration.filter(|d| *d > 0.0);
        match item.kind {
            MediaKind::Image => pending.push(Pending {
                label: label.clone(),
                item: item.clone(),
                seconds: explicit.or(s.image_duration.filter(|d| *d > 0.0)).unwrap_or(f64::NAN),
                source: ClipSource::Image,
            }),
            MediaKind::Video => {
                let trim_start = extra_f64(item, "trim_start").unwrap_or(0.0).max(0.0);
                let source_len = duration_of(&item.url, DurationOf::Video).ok_or_else(|| unknown(label, &item.url))?;
                let trim_end =
                    extra_f64(item, "trim_end").filter(|e| *e > trim_start).unwrap_or(source_len).min(source_len);
                let segment = (trim_end - trim_start).max(fps.secs_of(1));
                let seconds = explicit.or(video_loop).unwrap_or(segment);
                pending.push(Pending {
                    label: label.clone(),
                    item: item.clone(),
                    seconds,
                    source: ClipSource::Video {
                        trim_start,
                        segment: Some(segment),
                        looped: loop_video || video_loop.is_some(),
                    },
                });
            }
        }
    }

    let transition_kind = s.transition_type;
    let transition_secs = match transition_kind {
        Some(_) => s.transition_duration.unwrap_or(DEFAULT_TRANSITION_SECONDS),
        None => 0.0,
    };

    // 2. Images without a length share the voice-over, else take the default.
    let open: Vec<usize> = (0..pending.len()).filter(|&i| pending[i].seconds.is_nan()).collect();
    if !open.is_empty() {
        let voice_len = spec.voice.as_ref().and_then(|(_, url, _)| duration_of(url, DurationOf::Audio));
        match voice_len {
            Some(v) if open.len() == pending.iter().filter(|p| p.source == ClipSource::Image).count() => {
                let lens: Vec<u64> = pending
                    .iter()
                    .map(|p| if p.seconds.is_nan() { 0 } else { fps.frames_in(p.seconds).max(1) })
                    .collect();
                let target = fps.frames_covering(v + VOICE_TAIL_SECONDS).max(1);
                let frames = share_frames(&lens, &open, target, fps.frames_in(transition_secs));
                for (i, f) in open.iter().zip(frames) {
                    pending[*i].seconds = fps.secs_of(f);
                }
            }
            _ => {
                for i in open {
                    pending[i].seconds = DEFAULT_IMAGE_SECONDS;
                }
            }
        }
    }

    // 3. loop-video: cycle the items until `loop_to`.
    if let Some(target) = spec.loop_to {
        let once: f64 = pending.iter().map(|p| p.seconds).sum();
        if once > 0.0 && once < target {
            let base = std::mem::take(&mut pending);
            let mut total = 0.0;
            'outer: loop {
                for p in &base {
                    pending.push(Pending {
                        label: p.label.clone(),
                        item: p.item.clone(),
                        seconds: p.seconds,
                        source: p.source.clone(),
                    });
                    total += p.seconds - if pending.len() > 1 { transition_secs } else { 0.0 };
                    if total >= target || pending.len() > 10_000 {
                        break 'outer;
                    }
                }
            }
        }
    }

    // 4. Frames: lengths, transitions clamped to half of each neighbour, start times.
    let lens: Vec<u64> = pending.iter().map(|p| fps.frames_in(p.seconds).max(1)).collect();
    let want_tf = fps.frames_in(transition_secs);
    let mut clips: Vec<Clip> = Vec::with_capacity(pending.len());
    let mut transitions = Vec::new();
    let zoom_on = s.zoom_effect.unwrap_or(false);
    let intensity = s.zoom_intensity.unwrap_or(0.5) as f32;
    let mut start = 0u64;
    let mut image_index = 0usize;
    for (i, p) in pending.into_iter().enumerate() {
        if i > 0 {
            let tf = want_tf.min(lens[i - 1] / 2).min(lens[i] / 2);
            start = clips[i - 1].end - tf;
            transitions.push(Transition {
                kind: transition_kind.unwrap_or(crate::request::TransitionKind::Fade),
                direction: s.transition_direction.unwrap_or_default(),
                start,
                frames: tf,
            });
        }
        let fit = match p.item.extra.get("fit").and_then(Value::as_str) {
            Some("contain") => {
                Fit::Contain { blur: p.item.extra.get("background").and_then(Value::as_str) != Some("color") }
            }
            _ => Fit::Cover,
        };
        let zoom = (zoom_on && p.source == ClipSource::Image && intensity > 0.0).then(|| {
            let max = 1.0 + 0.3 * intensity;
            let zoom_in = match s.zoom_direction.unwrap_or_default() {
                crate::request::ZoomDirection::In => true,
                crate::request::ZoomDirection::Out => false,
                crate::request::ZoomDirection::Alternate => image_index.is_multiple_of(2),
            };
            if zoom_in {
                Zoom { from: 1.0, to: max }
            } else {
                Zoom { from: max, to: 1.0 }
            }
        });
        if p.source == ClipSource::Image {
            image_index += 1;
        }
        clips.push(Clip {
            media: MediaRef { label: p.label, url: p.item.url.clone() },
            source: p.source,
            start,
            end: start + lens[i],
            fit,
            zoom,
        });
    }
    let mut frame_count = clips.last().map(|c| c.end).unwrap_or(0);

    // 5. loop-video cuts at its duration; min_video_duration holds the last frame.
    if let Some(target) = spec.loop_to {
        let target_frames = fps.frames_in(target).max(1);
        if frame_count > target_frames {
            clips.retain(|c| c.start < target_frames);
            transitions.truncate(clips.len().saturating_sub(1));
            if let Some(last) = clips.last_mut() {
                last.end = last.end.min(target_frames);
            }
            frame_count = target_frames;
        }
    }
    if let Some(min) = s.min_video_duration.filter(|m| *m > 0.0) {
        let min_frames = fps.frames_in(min);
        if frame_count < min_frames {
            if let Some(last) = clips.last_mut() {
                last.end = min_frames;
            }
            frame_count = min_frames;
        }
    }
    if options.preview {
        let cap = fps.frames_in(PREVIEW_SECONDS);
        if frame_count > cap {
            clips.retain(|c| c.start < cap);
            transitions.truncate(clips.len().saturating_sub(1));
            if let Some(last) = clips.last_mut() {
                last.end = last.end.min(cap);
            }
            frame_count = cap;
        }
    }
    let duration = fps.secs_of(frame_count);
    options.limits.check_output_seconds(duration).map_err(LowerError::Limit)?;

    // 6. Overlays.
    let short_px = width.min(height) as f32;
    let mut overlays = Vec::new();
    let corner = s.watermark_position.unwrap_or_default();
    let wm_size = s.watermark_size.unwrap_or(0.15) as f32;
    let wm_opacity = s.watermark_opacity.unwrap_or(0.7) as f32;
    let wm_padding = s.watermark_padding.unwrap_or(20.0).round() as u32;
    if let Some(url) = &s.watermark_url {
        overlays.push(Overlay::WatermarkImage {
            media: MediaRef { label: "settings.watermark_url".into(), url: url.clone() },
            position: corner,
            size: wm_size,
            opacity: wm_opacity,
            padding: wm_padding,
        });
    } else if let Some(text) = s.watermark_text.as_ref().filter(|t| !t.trim().is_empty()) {
        overlays.push(Overlay::WatermarkText {
            text: text.clone(),
            position: corner,
            size: wm_size,
            opacity: wm_opacity,
            padding: wm_padding,
        });
    }
    for o in &s.text_overlays {
        let box_color = match o.background.unwrap_or_default() {
            TextBackground::None => [0, 0, 0, 0],
            TextBackground::Black => [0, 0, 0, 255],
            TextBackground::SemiTransparent => [0, 0, 0, 128],
        };
        overlays.push(Overlay::Text {
            text: o.text.clone(),
            style: TextStyle {
                font_px: short_px * 0.055,
                color: [255, 255, 255, 255],
                box_color,
                full_band: true,
                stroke: ([0, 0, 0, 255], if box_color[3] == 0 { short_px * 0.004 } else { 0.0 }),
                position: o.position.unwrap_or_default(),
            },
            start: 0,
            end: frame_count,
        });
    }
    overlays.extend(spec.captions);
    for (text, mut style, start_s, dur) in spec.timed_text {
        // Negative sizes are "pixels at a 1080 short side" from advanced styling.
        style.font_px = if style.font_px < 0.0 { -style.font_px * short_px / 1080.0 } else { short_px * 0.06 };
        if style.stroke.1 < 0.0 {
            style.stroke.1 = -style.stroke.1 * short_px / 1080.0;
        }
        let start = fps.frames_in(start_s.max(0.0));
        let end = match dur {
            Some(d) => fps.frames_in(start_s.max(0.0) + d.max(0.0)),
            None => frame_count,
        }
        .min(frame_count);
        if end > start {
            overlays.push(Overlay::Text { text, style, start, end });
        }
    }

    // 7. Audio.
    let mut audio = AudioPlan::default();
    if let Some((label, url, gain)) = &spec.voice {
        audio.tracks.push(AudioTrack {
            media: MediaRef { label: label.clone(), url: url.clone() },
            role: AudioRole::Voice,
            start: 0.0,
            source_offset: 0.0,
            length: None,
            source_end: None,
            gain: *gain,
            looped: false,
            fade_in: 0.0,
            fade_out: 0.0,
        });
    }
    if let Some(m) = &spec.music {
        audio.ducking = spec.voice.is_some() && m.gain.is_none();
        audio.tracks.push(AudioTrack {
            media: MediaRef { label: m.label.clone(), url: m.url.clone() },
            role: AudioRole::Music,
            start: 0.0,
            source_offset: 0.0,
            length: None,
            source_end: None,
            gain: m.gain.unwrap_or(1.0),
            looped: m.looped,
            fade_in: s.audio_fade_in.unwrap_or(0.0),
            fade_out: s.audio_fade_out.unwrap_or(0.0),
        });
    }
    if !s.mute_original_audio.unwrap_or(false) {
        let gain = s.video_volume.unwrap_or(1.0) as f32;
        for c in &clips {
            if let ClipSource::Video { trim_start, segment, looped } = &c.source {
                audio.tracks.push(AudioTrack {
                    media: c.media.clone(),
                    role: AudioRole::ClipSound,
                    start: fps.secs_of(c.start),
                    source_offset: *trim_start,
                    length: Some(fps.secs_of(c.end - c.start).min(if *looped {
                        f64::MAX
                    } else {
                        segment.unwrap_or(f64::MAX)
                    })),
                    source_end: segment.map(|seg| trim_start + seg),
                    gain,
                    looped: *looped,
                    fade_in: 0.0,
                    fade_out: 0.0,
                });
            }
        }
    }

    Ok(RenderPlan {
        width,
        height,
        fps,
        frame_count,
        preset: if options.preview { EncodePreset { speed: 10, quantizer: 150 } } else { preset(quality) },
        background: spec.background,
        clips,
        transitions,
        overlays,
        audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Endpoint;

    fn mix(items: Vec<serde_json::Value>) -> CreateRequest {
        let body = serde_json::json!({"media_list": items, "settings": {"fps": 15, "output_quality": "low"}});
        crate::validate::parse_create(Endpoint::MixVideo, body.to_string().as_bytes()).expect("valid")
    }

    fn options(max_output_seconds: f64, max_clips: usize) -> LowerOptions {
        LowerOptions { preview: false, limits: Limits { max_output_seconds, max_clips, ..Limits::default() } }
    }

    #[test]
    fn the_output_length_limit_is_the_operators() {
        // One 720 s clip: over the default 600 s, inside an operator's 900 s.
        let request = mix(vec![serde_json::json!({"type": "video", "url": "long.mp4"})]);
        let twelve_minutes = |_: &str, _: DurationOf| Some(720.0);
        let err = lower(&request, &twelve_minutes, &LowerOptions::default()).expect_err("over 600 s");
        assert_eq!(err.to_string(), "output of 720 s exceeds the 600 s limit");
        let plan = lower(&request, &twelve_minutes, &options(900.0, 100)).expect("inside 900 s");
        assert_eq!(plan.duration_secs(), 720.0);
        let err = lower(&request, &twelve_minutes, &options(700.0, 100)).expect_err("over 700 s");
        assert_eq!(err.to_string(), "output of 720 s exceeds the 700 s limit");
    }

    #[test]
    fn the_clip_limit_counts_the_requests_items() {
        let stills = |n: usize| {
            (0..n).map(|i| serde_json::json!({"type": "image", "url": format!("{i}.png"), "duration": 1})).collect()
        };
        assert!(lower(&mix(stills(100)), &|_, _| None, &LowerOptions::default()).is_ok());
        let err = lower(&mix(stills(101)), &|_, _| None, &LowerOptions::default()).expect_err("101 clips");
        assert_eq!(err.to_string(), "101 clips exceed the 100 clip limit");
        let err = lower(&mix(stills(3)), &|_, _| None, &options(600.0, 2)).expect_err("3 of 2");
        assert_eq!(err.to_string(), "3 clips exceed the 2 clip limit");
    }
}
