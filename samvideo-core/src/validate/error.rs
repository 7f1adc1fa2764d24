//! What a rejected body says.
//!
//! [`Invalid`] is the validator's own error: the documented exact strings as unit variants,
//! and [`Invalid::Field`] for everything else ("`fps must be between 15 and 60`"). It is
//! turned into the API's [`ApiError`] once, by [`Invalid::into_api`], so the core endpoints
//! answer `{"success":false,"message":...}` and advanced-video answers the
//! `VALIDATION_ERROR` body.

use crate::error::ApiError;
use crate::request::Endpoint;

/// Why a request body was rejected. `Display` is the `message` the user reads.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The body is not JSON, or not a JSON object.
    #[error("Invalid JSON data")]
    Json,
    /// `media_list` is missing, `null` or empty.
    #[error("No media items provided")]
    NoMediaItems,
    /// A media item lacks `type` or `url` (missing, `null` or `""`).
    #[error("Each media item must have 'type' and 'url'")]
    MediaTypeAndUrl,
    /// A media item's `type` is not `video` or `image`.
    #[error("Media type must be 'video' or 'image'")]
    MediaType,
    /// loop-video: the top-level `type` is not exactly `LoopVideo`.
    #[error("Invalid video type. Only 'LoopVideo' is supported.")]
    LoopType,
    /// loop-video: `data.background_url` is missing, `null` or `""`.
    #[error("Background URL is required")]
    BackgroundUrl,
    /// loop-video: `data.duration` is a number (or numeric string) that is not > 0.
    #[error("Duration must be a positive number")]
    DurationNotPositive,
    /// loop-video: `data.duration` is neither a number nor a numeric string.
    #[error("Duration must be a valid number")]
    DurationNotNumber,
    /// Any other field: `<path> <problem>`, e.g. `media_list[2]: duration must be a positive number`.
    #[error("{path} {problem}")]
    Field {
        /// Where: `fps`, `output_settings.framerate`, `media_list[2]: url`, `exports.destinations[0]: host`.
        path: String,
        /// What is wrong.
        problem: Problem,
    },
}

impl Invalid {
    /// A field error at `path`.
    pub fn field(path: impl Into<String>, problem: Problem) -> Self {
        Invalid::Field { path: path.into(), problem }
    }

    /// The API answer for `endpoint`: advanced-video wraps every message as
    /// `Configuration validation failed: <message>` with `error_code: VALIDATION_ERROR`;
    /// the core endpoints answer `{"success":false,"message":<message>}`. Both are HTTP 400.
    pub fn into_api(self, endpoint: Endpoint) -> ApiError {
        match endpoint {
            Endpoint::AdvancedVideo => ApiError::advanced_validation(self),
            _ => ApiError::bad_request(self.to_string()),
        }
    }
}

impl From<Invalid> for ApiError {
    /// A plain 400 with the message (templates, AI jobs).
    fn from(e: Invalid) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// What is wrong with a field. `Display` completes the sentence after the field's path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The key is absent.
    #[error("is required")]
    Required,
    /// Not one of the listed strings.
    #[error("must be one of {}", .0.join(", "))]
    OneOf(&'static [&'static str]),
    /// A number outside the inclusive range.
    #[error("must be between {min} and {max}")]
    Between {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// A number below the minimum.
    #[error("must be at least {0}")]
    AtLeast(f64),
    /// Zero or negative.
    #[error("must be a positive number")]
    Positive,
    /// Not a JSON number (strings, booleans and `null` are not numbers).
    #[error("must be a number")]
    Number,
    /// A number with a fractional part where a whole number is needed.
    #[error("must be an integer")]
    Integer,
    /// A fractional frame rate other than the NTSC ones.
    #[error("must be an integer or one of {}", crate::frame_rate::NTSC_RATES.map(|(text, _)| text).join(", "))]
    FrameRate,
    /// Not `true` or `false`.
    #[error("must be a boolean")]
    Boolean,
    /// Not a JSON string.
    #[error("must be a string")]
    String,
    /// An empty string where text is needed.
    #[error("must be a non-empty string")]
    NonEmptyString,
    /// Longer than the limit (in Unicode characters).
    #[error("must be at most {0} characters")]
    MaxChars(usize),
    /// Not a JSON object.
    #[error("must be an object")]
    Object,
    /// Not a JSON array.
    #[error("must be an array")]
    Array,
    /// An array with too few or too many entries.
    #[error("must have between {min} and {max} entries")]
    Count {
        /// Fewest entries.
        min: usize,
        /// Most entries.
        max: usize,
    },
    /// An array with too many entries.
    #[error("must have at most {0} entries")]
    AtMost(usize),
    /// Not `#RRGGBB`.
    #[error("must be a color like #RRGGBB")]
    ColorRgb,
    /// Not `#RRGGBB` or `#RRGGBBAA`.
    #[error("must be a color like #RRGGBB or #RRGGBBAA")]
    ColorRgba,
    /// Not an `http://` or `https://` URL.
    #[error("must be an http(s) URL")]
    HttpUrl,
    /// Not an e-mail address or a list of them.
    #[error("must be an email address or a list of email addresses")]
    Email,
    /// Not greater than the named sibling field.
    #[error("must be greater than {0}")]
    GreaterThan(&'static str),
    /// A transcript entry with `text` instead of `words`.
    #[error("uses 'text': send the caption text as 'words' (with 'start' and 'end')")]
    TextNotWords,
    /// Subtitle text whose cues do not parse (`transcript_srt is not valid SRT: line 2: ...`).
    #[error("is not valid {format}: {reason}")]
    Subtitles {
        /// `SRT` or `WebVTT`.
        format: &'static str,
        /// The parser's reason, naming the line.
        reason: String,
    },
    /// A subtitle URL that is not `https`.
    #[error("must be the file's text or an https URL")]
    SubtitleUrl,
    /// Sent together with another key it excludes.
    #[error("cannot be sent with {0}: send the captions one way")]
    Conflicts(&'static str),
    /// `exports` both at the root and inside `data`/`config`.
    #[error("must be sent once: at the root or inside data/config, not both")]
    Duplicate,
    /// Valid JSON of the right shape that still failed to decode (a bug guard; names serde's reason).
    #[error("could not be read: {0}")]
    Decode(String),
}
