//! The SRT and WebVTT cue parser.
//!
//! Enter: the text of a subtitle file and its format. Leave: the [`Cue`]s in file order, or a
//! [`SubtitleError`] naming the line. A file is blocks separated by blank lines; a cue block
//! is an optional identifier (SRT's index), a timing line `start --> end` and text lines.
//! WebVTT's `NOTE`, `STYLE` and `REGION` blocks and cue settings are skipped; markup (`<i>`,
//! `<c.yellow>`, `<v Name>`, SRT's `{\an8}`) is removed; a WebVTT timestamp tag
//! (`<00:00:01.500>`) starts a new timed part of the cue. Never panics, whatever the text
//! (fuzzed: `fuzz/fuzz_targets/subtitles.rs`).

use super::{Cue, CuePart, SubtitleFormat};

/// Why subtitle text does not parse. `Display` is what follows the field in a message:
/// `transcript_srt is not valid SRT: line 5: ...`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SubtitleError {
    /// A WebVTT file must begin with `WEBVTT`.
    #[error("line 1: a WebVTT file starts with WEBVTT")]
    Header,
    /// A block whose first (or second) line is not a cue timing.
    #[error("line {line}: expected a cue timing like {example}, found {found:?}")]
    Timing {
        /// 1-based line number.
        line: usize,
        /// What a timing line looks like in this format.
        example: &'static str,
        /// The start of the line found instead.
        found: String,
    },
    /// A cue that does not end after it starts.
    #[error("line {line}: the cue must end after it starts")]
    Backwards {
        /// 1-based line number of the timing.
        line: usize,
    },
    /// No cue with text in the whole file.
    #[error("no cues with text")]
    NoCues,
}

/// Longest excerpt of a bad line quoted in an error.
const QUOTE_CHARS: usize = 40;

/// Parse `text` as `format`. Cues without text are dropped; a file with none is an error.
pub fn parse(text: &str, format: SubtitleFormat) -> Result<Vec<Cue>, SubtitleError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().map(|(i, l)| (i + 1, l));
    if format == SubtitleFormat::WebVtt {
        let first = lines.next().map(|(_, l)| l).unwrap_or_default();
        let rest = first.strip_prefix("WEBVTT").ok_or(SubtitleError::Header)?;
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return Err(SubtitleError::Header);
        }
        // The header runs to the first blank line.
        for (_, l) in lines.by_ref() {
            if l.trim().is_empty() {
                break;
            }
        }
    }
    let mut cues = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (n, line) in lines.chain(std::iter::once((0, ""))) {
        if !line.trim().is_empty() {
            block.push((n, line));
            continue;
        }
        if !block.is_empty() {
            if let Some(cue) = parse_block(&block, format)? {
                cues.push(cue);
            }
            block.clear();
        }
    }
    if cues.is_empty() {
        return Err(SubtitleError::NoCues);
    }
    Ok(cues)
}

/// One block: a cue (None when it has no text), a skipped WebVTT block, or an error.
fn parse_block(block: &[(usize, &str)], format: SubtitleFormat) -> Result<Option<Cue>, SubtitleError> {
    let (first_line, first) = block[0];
    if format == SubtitleFormat::WebVtt && !first.contains("-->") {
        let keyword = first.split([' ', '\t']).next().unwrap_or_default();
        if matches!(keyword, "NOTE" | "STYLE" | "REGION") {
            return Ok(None);
        }
    }
    let timing_at = match block.iter().take(2).position(|(_, l)| l.contains("-->")) {
        Some(i) => i,
        None => return Err(timing_error(first_line, first, format)),
    };
    let (line, timing) = block[timing_at];
    let (start, end) = parse_timing(timing).ok_or_else(|| timing_error(line, timing, format))?;
    if end <= start {
        return Err(SubtitleError::Backwards { line });
    }
    let payload: Vec<&str> = block[timing_at + 1..].iter().map(|(_, l)| *l).collect();
    let parts = match format {
        SubtitleFormat::Srt => timed_parts(&payload.join("\n"), start, end, false),
        SubtitleFormat::WebVtt => timed_parts(&payload.join("\n"), start, end, true),
    };
    Ok((!parts.is_empty()).then_some(Cue { start, end, parts }))
}

fn timing_error(line: usize, found: &str, format: SubtitleFormat) -> SubtitleError {
    let example = match format {
        SubtitleFormat::Srt => "00:00:01,000 --> 00:00:02,500",
        SubtitleFormat::WebVtt => "00:00:01.000 --> 00:00:02.500",
    };
    SubtitleError::Timing { line, example, found: found.chars().take(QUOTE_CHARS).collect() }
}

/// `start --> end [settings]` in seconds.
fn parse_timing(line: &str) -> Option<(f64, f64)> {
    let (left, right) = line.split_once("-->")?;
    let end = right.split_whitespace().next()?;
    Some((timestamp(left.trim())?, timestamp(end)?))
}

/// `[H...:]MM:SS[,.]mmm` (SRT writes a comma, WebVTT a dot; both accepted, as players do)
/// in seconds; the fraction may have 1 to 3 digits, hours at most 5.
pub(super) fn timestamp(s: &str) -> Option<f64> {
    let (clock, fraction) = match s.find([',', '.']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let number = |f: &str, max_len: usize| -> Option<u64> {
        (!f.is_empty() && f.len() <= max_len && f.bytes().all(|b| b.is_ascii_digit())).then(|| f.parse().ok())?
    };
    let (hours, minutes, seconds) = match fields.as_slice() {
        [h, m, s] => (number(h, 5)?, number(m, 2)?, number(s, 2)?),
        [m, s] => (0, number(m, 2)?, number(s, 2)?),
        _ => return None,
    };
    if minutes > 59 || seconds > 59 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) => {
            let digits = number(f, 3)?;
            digits * 10u64.pow(3 - f.len() as u32)
        }
    };
    // Whole milliseconds, divided once: `01:02:03,456` is exactly the number `3723.456`.
    Some(((hours * 3600 + minutes * 60 + seconds) * 1000 + millis) as f64 / 1000.0)
}

/// The cue text without markup, in parts timed by WebVTT timestamp tags (`vtt`), each
/// part's words with whitespace collapsed; empty parts dropped. Tag times are kept inside
/// the cue and in order (a tag before the previous one, or outside the cue, is clamped).
fn timed_parts(payload: &str, start: f64, end: f64, vtt: bool) -> Vec<CuePart> {
    let mut spans: Vec<(String, f64)> = vec![(String::new(), start)];
    let mut rest = payload;
    while let Some(i) = rest.find(['<', '{']) {
        push_text(&mut spans, &rest[..i], vtt);
        let tail = &rest[i..];
        let close = if tail.starts_with('<') { '>' } else { '}' };
        let Some(j) = tail.find(close) else {
            // An unclosed bracket is text.
            push_text(&mut spans, tail, vtt);
            rest = "";
            break;
        };
        let inner = &tail[1..j];
        if tail.starts_with('{') && !inner.starts_with('\\') {
            // Only `{\...}` (ASS override codes in SRT) is markup; other braces are text.
            push_text(&mut spans, &tail[..=j], vtt);
        } else if let Some(t) = vtt.then(|| timestamp(inner)).flatten() {
            let previous = spans.last().map_or(start, |s| s.1);
            spans.push((String::new(), t.clamp(previous, end)));
        }
        rest = &tail[j + 1..];
    }
    push_text(&mut spans, rest, vtt);
    let mut parts: Vec<CuePart> = Vec::new();
    for (i, (text, t0)) in spans.iter().enumerate() {
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.is_empty() {
            continue;
        }
        let t1 = spans.get(i + 1).map_or(end, |s| s.1);
        parts.push(CuePart { text: words, start: *t0, end: t1 });
    }
    parts
}

/// Append `text` to the last span, decoding WebVTT's character references.
fn push_text(spans: &mut [(String, f64)], text: &str, vtt: bool) {
    let Some(last) = spans.last_mut() else { return };
    if !vtt {
        last.0.push_str(text);
        last.0.push(' ');
        return;
    }
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        last.0.push_str(&rest[..i]);
        let tail = &rest[i..];
        let entity = [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&lrm;", ""), ("&rlm;", "")]
            .into_iter()
            .find(|(name, _)| tail.starts_with(name));
        match entity {
            Some((name, value)) => {
                last.0.push_str(value);
                rest = &tail[name.len()..];
            }
            None => {
                last.0.push('&');
                rest = &tail[1..];
            }
        }
    }
    last.0.push_str(rest);
    last.0.push(' ');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(text: &str, start: f64, end: f64) -> CuePart {
        CuePart { text: text.into(), start, end }
    }

    #[test]
    fn srt_cues_with_index_markup_and_crlf() {
        let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i>\r\nworld\r\n\r\n2\r\n\
                   00:00:03,000 --> 00:00:04,250\r\n{\\an8}Second {x} line\r\n";
        let cues = parse(srt, SubtitleFormat::Srt).expect("parses");
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0].parts, vec![part("Hello world", 1.0, 2.5)]);
        assert_eq!(cues[1].parts, vec![part("Second {x} line", 3.0, 4.25)]);
    }

    #[test]
    fn vtt_timestamp_tags_time_the_words() {
        let vtt = "WEBVTT - words\nKind: captions\n\nNOTE a comment\nspanning lines\n\nSTYLE\n::cue { color: red }\n\n\
                   intro\n00:01.000 --> 00:00:04.000 align:start line:90%\n\
                   <v Sam>I <00:00:01.400><c.hl>like</c> <00:00:02.000>big &amp; small\n\n\
                   00:00:05.000 --> 00:00:06.000\n<00:00:05.500>late\n";
        let cues = parse(vtt, SubtitleFormat::WebVtt).expect("parses");
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0].start, 1.0);
        assert_eq!(cues[0].parts, vec![part("I", 1.0, 1.4), part("like", 1.4, 2.0), part("big & small", 2.0, 4.0)]);
        assert_eq!(cues[1].parts, vec![part("late", 5.5, 6.0)]);
        assert_eq!(cues[0].text(), "I like big & small");
    }

    #[test]
    fn out_of_order_tags_are_clamped_into_the_cue() {
        let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na <00:00:09.000>b <00:00:00.500>c\n";
        let cues = parse(vtt, SubtitleFormat::WebVtt).expect("parses");
        assert_eq!(cues[0].parts, vec![part("a", 1.0, 2.0), part("b", 2.0, 2.0), part("c", 2.0, 2.0)]);
    }

    #[test]
    fn errors_name_the_line() {
        let msg = |t: &str, f| parse(t, f).expect_err("refused").to_string();
        assert_eq!(
            msg("1\n00:00:01 -> 00:00:02\nx\n", SubtitleFormat::Srt),
            "line 1: expected a cue timing like 00:00:01,000 --> 00:00:02,500, found \"1\""
        );
        assert_eq!(
            msg("WEBVTT\n\n00:00:01.000 --> 00:00:61.000\nx\n", SubtitleFormat::WebVtt),
            "line 3: expected a cue timing like 00:00:01.000 --> 00:00:02.500, found \"00:00:01.000 --> 00:00:61.000\""
        );
        assert_eq!(
            msg("1\n00:00:02,000 --> 00:00:01,000\nx\n", SubtitleFormat::Srt),
            "line 2: the cue must end after it starts"
        );
        assert_eq!(msg("WEBVTTX\n", SubtitleFormat::WebVtt), "line 1: a WebVTT file starts with WEBVTT");
        assert_eq!(msg("1\n00:00:01,000 --> 00:00:02,000\n\n", SubtitleFormat::Srt), "no cues with text");
        assert_eq!(msg("", SubtitleFormat::Srt), "no cues with text");
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp("01:02:03,456"), Some(3723.456));
        assert_eq!(timestamp("02:03.5"), Some(123.5));
        assert_eq!(timestamp("99999:00:00.000"), Some(359_996_400.0));
        for bad in ["", "1:2:3:4", "00:60:00.000", "00:00:00.0000", "+1:00:00", "00:00:0a", "123456:00:00"] {
            assert_eq!(timestamp(bad), None, "{bad}");
        }
    }
}
