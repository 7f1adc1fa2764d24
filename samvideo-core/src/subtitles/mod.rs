//! Subtitle files: SRT and WebVTT cues in (`transcript_srt` / `transcript_vtt`), caption
//! pages out (the `.srt` / `.vtt` sidecars written beside a captioned video).
//!
//! Enter: subtitle text (`parse`), or cues in seconds (`write`). Leave: [`Cue`]s whose
//! [`Cue::parts`] carry the word-level timing a WebVTT cue gives with timestamp tags
//! (`<00:00:01.500>`), or the text of a sidecar. Pure text: no I/O, no codec, so the validator
//! (built without the `render` feature) parses inline subtitles and answers a 400 naming the
//! line, and the fuzz target reaches the parser directly.
//!
//! Hand-written rather than a crate: the cue syntax is a timing line and text lines, the
//! crates looked at either read SRT only or drop WebVTT's timestamp tags (the word timing this
//! is for), and errors here must name the line for the API's message. Rules: `docs/captions.md`.

mod parse;
mod write;

pub use parse::{parse, SubtitleError};
pub use write::{write_srt, write_vtt};

/// The two formats a transcript may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtitleFormat {
    /// SubRip (`00:00:01,000 --> 00:00:02,500`).
    Srt,
    /// WebVTT (`WEBVTT` header, `00:00:01.000 --> 00:00:02.500`, timestamp tags).
    WebVtt,
}

impl SubtitleFormat {
    /// The name a message uses: `SRT`, `WebVTT`.
    pub fn name(self) -> &'static str {
        match self {
            SubtitleFormat::Srt => "SRT",
            SubtitleFormat::WebVtt => "WebVTT",
        }
    }
}

/// One cue: shown from `start` to `end` (seconds), its text in timed parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// Seconds.
    pub start: f64,
    /// Seconds, > `start`.
    pub end: f64,
    /// The cue's text split where a timestamp tag starts a new span, each with its start and
    /// end in seconds inside `start..end`; one part (the whole cue) when there are no tags.
    /// Text has its markup removed, entities decoded and lines joined with spaces.
    pub parts: Vec<CuePart>,
}

/// Text spoken from `start` to `end` (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct CuePart {
    /// The words (may be several: they share the span by their characters when lowered).
    pub text: String,
    /// Seconds.
    pub start: f64,
    /// Seconds.
    pub end: f64,
}

impl Cue {
    /// The cue's text, parts joined with spaces.
    pub fn text(&self) -> String {
        self.parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}
