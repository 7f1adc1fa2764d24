//! The sidecar writers: cues as SubRip and WebVTT text.
//!
//! Enter: cues in seconds (the caption pages of a render, one part each). Leave: the file's
//! text, UTF-8 with `\n` line ends; times rounded to the millisecond. WebVTT text escapes
//! `&`, `<` and `>` (so no cue text can read as markup or a timing arrow); SRT carries text as is.

use std::fmt::Write as _;

use super::Cue;

/// `00:00:01,500` (SRT) or `00:00:01.500` (WebVTT).
fn clock(seconds: f64, separator: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{separator}{ms:03}")
}

/// The cues as a SubRip file (numbered from 1).
pub fn write_srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (i, cue) in cues.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = write!(out, "{}\n{} --> {}\n{}\n\n", i + 1, clock(cue.start, ','), clock(cue.end, ','), cue.text());
    }
    out
}

/// The cues as a WebVTT file.
pub fn write_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for cue in cues {
        let text = cue.text().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let _ = write!(out, "{} --> {}\n{}\n\n", clock(cue.start, '.'), clock(cue.end, '.'), text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{parse, CuePart, SubtitleFormat};
    use super::*;

    fn cue(text: &str, start: f64, end: f64) -> Cue {
        Cue { start, end, parts: vec![CuePart { text: text.into(), start, end }] }
    }

    #[test]
    fn files_read_back_as_written() {
        let cues = vec![cue("I like", 0.0, 1.0), cue("big <&> cats -->", 3661.5, 3662.0333)];
        let srt = write_srt(&cues);
        assert_eq!(
            srt,
            "1\n00:00:00,000 --> 00:00:01,000\nI like\n\n2\n01:01:01,500 --> 01:01:02,033\nbig <&> cats -->\n\n"
        );
        let vtt = write_vtt(&cues);
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nI like\n\n"), "{vtt}");
        let back = parse(&vtt, SubtitleFormat::WebVtt).expect("reads back");
        assert_eq!(back[1].text(), "big <&> cats -->");
        assert_eq!(back[1].end, 3662.033);
    }
}
