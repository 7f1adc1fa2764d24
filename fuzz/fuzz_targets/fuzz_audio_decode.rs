//! Arbitrary bytes as a fetched audio file (MP3, AAC/M4A, WAV, FLAC, Ogg Vorbis through
//! symphonia, then resampling to 48 kHz stereo): a `Pcm` or a `MediaError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samvideo_core::audio::decode_audio;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the extension hint, as a URL's suffix would.
    let hints = [None, Some("mp3"), Some("m4a"), Some("wav"), Some("flac"), Some("ogg")];
    let (hint, body) = match data.split_first() {
        Some((h, rest)) => (hints[*h as usize % hints.len()], rest),
        None => (None, data),
    };
    if let Ok(pcm) = decode_audio(body, hint) {
        assert!(pcm.duration_secs().is_finite());
    }
});
