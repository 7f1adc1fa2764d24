//! Sound (`docs/timing.md`, "Audio"): the voice, the music (ducked under a voice unless its
//! volume was given) and each video clip's own sound, placed on the timeline.
//!
//! Enter: the [`TimelineSpec`] and the placed clips. Leave: the [`AudioPlan`].

use super::spec::TimelineSpec;
use crate::plan::{AudioPlan, AudioRole, AudioTrack, Clip, ClipSource, MediaRef};

/// Step 7. The audio plan.
pub(super) fn audio(spec: &TimelineSpec, clips: &[Clip]) -> AudioPlan {
    let s = &spec.settings;
    let fps = spec.fps;
    let mut audio = AudioPlan { normalize: spec.normalize_audio, ..AudioPlan::default() };
    let track = |media: MediaRef, role, gain| AudioTrack {
        media,
        role,
        start: 0.0,
        source_offset: 0.0,
        length: None,
        source_end: None,
        gain,
        looped: false,
        fade_in: 0.0,
        fade_out: 0.0,
    };
    if let Some((label, url, gain)) = &spec.voice {
        audio.tracks.push(track(MediaRef { label: label.clone(), url: url.clone() }, AudioRole::Voice, *gain));
    }
    if let Some(m) = &spec.music {
        audio.ducking = spec.voice.is_some() && m.gain.is_none();
        audio.tracks.push(AudioTrack {
            looped: m.looped,
            fade_in: s.audio_fade_in.unwrap_or(0.0),
            fade_out: s.audio_fade_out.unwrap_or(0.0),
            ..track(MediaRef { label: m.label.clone(), url: m.url.clone() }, AudioRole::Music, m.gain.unwrap_or(1.0))
        });
    }
    if !s.mute_original_audio.unwrap_or(false) {
        let gain = s.video_volume.unwrap_or(1.0) as f32;
        for c in clips {
            if let ClipSource::Video { trim_start, segment, looped } = &c.source {
                let shown = fps.secs_of(c.end - c.start);
                audio.tracks.push(AudioTrack {
                    start: fps.secs_of(c.start),
                    source_offset: *trim_start,
                    length: Some(if *looped { shown } else { shown.min(segment.unwrap_or(f64::MAX)) }),
                    source_end: segment.map(|seg| trim_start + seg),
                    looped: *looped,
                    ..track(c.media.clone(), AudioRole::ClipSound, gain)
                });
            }
        }
    }
    audio
}
