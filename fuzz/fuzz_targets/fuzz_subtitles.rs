//! Arbitrary bytes as a subtitle file (`transcript_srt` / `transcript_vtt`, sent inline or
//! fetched): the parser answers cues or an error naming the line, and never panics; the first
//! byte picks the format. Cues it accepts have times in order and text, and survive the
//! sidecar round trip (written as WebVTT, read back as the same number of cues).
#![no_main]

use libfuzzer_sys::fuzz_target;
use samvideo_core::subtitles::{parse, write_vtt, SubtitleFormat};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let format = if pick & 1 == 0 { SubtitleFormat::Srt } else { SubtitleFormat::WebVtt };
    let text = String::from_utf8_lossy(rest);
    match parse(&text, format) {
        Ok(cues) => {
            assert!(!cues.is_empty());
            for cue in &cues {
                assert!(cue.start < cue.end && cue.start.is_finite() && cue.end.is_finite());
                assert!(!cue.parts.is_empty());
                for part in &cue.parts {
                    assert!(!part.text.trim().is_empty());
                    assert!(cue.start <= part.start && part.start <= part.end && part.end <= cue.end);
                }
            }
            let back = parse(&write_vtt(&cues), SubtitleFormat::WebVtt).expect("a written file reads back");
            assert_eq!(back.len(), cues.len());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
