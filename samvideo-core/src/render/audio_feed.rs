//! The audio side of an MP4 render: the plan's tracks become one streaming mixer, and
//! [`AudioFeed`] encodes packets on demand (Opus beside AV1, AAC-LC beside H.264) so the
//! muxer can interleave them ahead of the video (`mp4_out.rs`), or so the audio part of a
//! split render can hold them all (`parts/`).
//!
//! Enter: the plan and the job's assets. Leave: audio packets, in order, one at a time.

#[cfg(feature = "aac")]
use crate::audio::AacEncoder;
use crate::audio::{
    gain_to_target, integrated_loudness, normalized_ceiling, refine_gain, AudioPacket, Ducking, MixSource, MixSpec,
    Mixer, OpusEncoder, TrackRole, TrackSpec, TARGET_LUFS,
};
use crate::mux::mp4::{AudioFormat, AudioTrack};
use crate::plan::{AudioCodec, AudioRole, MediaRef, RenderPlan};

use super::api::{RenderError, AUDIO_BITRATE};
use super::assets::{item_error, JobAssets};

/// Build the streaming mixer of the plan's audio, or `None` when the video is silent. With
/// `normalize`, the mix is played once into a loudness meter first, and the mixer returned
/// plays it again at the gain that reaches the platforms' loudness.
pub(super) fn build_mixer(plan: &RenderPlan, assets: &JobAssets) -> Result<Option<PlanMix>, RenderError> {
    let Some((spec, sources, items)) = mix_of(plan, assets)? else { return Ok(None) };
    let mut mixer = Mixer::with_sources(spec.clone(), sources);
    if plan.audio.normalize {
        let fresh = || -> Result<Mixer, RenderError> {
            let (_, sources, _) = mix_of(plan, assets)?.ok_or(RenderError::Pipeline("the mix vanished"))?;
            Ok(Mixer::with_sources(spec.clone(), sources))
        };
        // The limiter takes back some of the gain on peaky mixes, so the gain is refined on
        // the limited mix until it lands within 0.1 LU (a pass mixes the audio only).
        let measured = integrated_loudness(mixer)?;
        let mut gain = gain_to_target(measured);
        for _ in 0..NORMALIZE_REFINE_PASSES {
            let mut pass = fresh()?;
            pass.set_master(gain, normalized_ceiling());
            match integrated_loudness(pass)? {
                Some(l) if (l - TARGET_LUFS).abs() > 0.1 => gain = refine_gain(gain, l),
                _ => break,
            }
        }
        tracing::debug!(?measured, gain_db = 20.0 * f64::from(gain).log10(), "loudness normalization");
        mixer = fresh()?;
        mixer.set_master(gain, normalized_ceiling());
    }
    Ok(Some(PlanMix { mixer, items }))
}

/// Most extra mixing passes spent refining the normalization gain.
const NORMALIZE_REFINE_PASSES: usize = 4;

/// The mix spec of the plan's audio, freshly opened sources and the item of each track.
#[allow(clippy::type_complexity)]
pub(super) fn mix_of(
    plan: &RenderPlan,
    assets: &JobAssets,
) -> Result<Option<(MixSpec, Vec<MixSource>, Vec<(MediaRef, bool)>)>, RenderError> {
    let mut tracks = Vec::new();
    let mut sources = Vec::new();
    let mut items = Vec::new();
    for t in &plan.audio.tracks {
        let source = match assets.audio_until(&t.media.url, t.source_end) {
            Ok(s) => s,
            // A clip without a sound track simply adds nothing.
            Err(_) if t.role == AudioRole::ClipSound => continue,
            Err(e) => return Err(item_error(&t.media, e).into()),
        };
        if t.role == AudioRole::ClipSound && source.frames() == 0 {
            continue;
        }
        tracks.push(TrackSpec {
            role: match t.role {
                AudioRole::Voice => TrackRole::Voice,
                AudioRole::Music => TrackRole::Music,
                AudioRole::ClipSound => TrackRole::ClipSound,
            },
            start: t.start,
            source_offset: t.source_offset,
            length: t.length,
            gain: t.gain,
            looped: t.looped,
            fade_in: t.fade_in,
            fade_out: t.fade_out,
        });
        sources.push(MixSource::Stream(source));
        items.push((t.media.clone(), t.role != AudioRole::ClipSound));
    }
    if tracks.is_empty() {
        return Ok(None);
    }
    let spec = MixSpec { duration: plan.duration_secs(), tracks, ducking: plan.audio.ducking.then(Ducking::default) };
    spec.validate()?;
    Ok(Some((spec, sources, items)))
}

/// The streaming mix of a plan and, per mixer track, the item it plays and whether a decode
/// error part-way fails the render (voice-over, music) or only silences that track from there
/// on (a video clip's own sound, which is also skipped when it cannot be opened at all).
pub(super) struct PlanMix {
    mixer: Mixer,
    items: Vec<(MediaRef, bool)>,
}

/// The audio encoder of a render (Opus keeps ~23 KB of state inline: boxed).
enum Encoder {
    Opus(Box<OpusEncoder>),
    #[cfg(feature = "aac")]
    Aac(AacEncoder),
}

impl Encoder {
    fn encode(&mut self, pcm: &[f32]) -> Result<Vec<AudioPacket>, RenderError> {
        Ok(match self {
            Encoder::Opus(e) => e.encode(pcm)?,
            #[cfg(feature = "aac")]
            Encoder::Aac(e) => e.encode(pcm)?,
        })
    }

    fn finish(self) -> Result<Vec<AudioPacket>, RenderError> {
        Ok(match self {
            Encoder::Opus(e) => (*e).finish()?,
            #[cfg(feature = "aac")]
            Encoder::Aac(e) => e.finish()?,
        })
    }
}

/// The audio packets of a render: mixes and encodes on demand.
pub(super) struct AudioFeed {
    mixer: Mixer,
    items: Vec<(MediaRef, bool)>,
    encoder: Option<Encoder>,
    buf: Vec<f32>,
    queued: std::collections::VecDeque<AudioPacket>,
    done: bool,
}

impl AudioFeed {
    /// Start encoding `mix` in `codec` (nothing is mixed until packets are asked for).
    pub(super) fn new(mix: PlanMix, codec: AudioCodec) -> Result<AudioFeed, RenderError> {
        let PlanMix { mixer, items } = mix;
        let encoder = match codec {
            AudioCodec::Opus => Encoder::Opus(Box::new(OpusEncoder::new(AUDIO_BITRATE)?)),
            #[cfg(feature = "aac")]
            AudioCodec::Aac => Encoder::Aac(AacEncoder::new(AUDIO_BITRATE)?),
            #[cfg(not(feature = "aac"))]
            AudioCodec::Aac => {
                let reason = "this build has no AAC encoder (cargo feature `aac`): use output_codec av1";
                return Err(crate::audio::AudioError::Aac(reason.into()).into());
            }
        };
        Ok(AudioFeed {
            mixer,
            items,
            encoder: Some(encoder),
            buf: vec![0.0; 4096 * 2],
            queued: Default::default(),
            done: false,
        })
    }

    /// The audio track the MP4 declares for this mix.
    pub(super) fn track(&self) -> Option<AudioTrack> {
        let audio_samples = self.mixer.total_frames();
        let (format, delay, frame) = match self.encoder.as_ref()? {
            Encoder::Opus(e) => (AudioFormat::Opus { pre_skip: e.pre_skip() }, u64::from(e.pre_skip()), 960),
            #[cfg(feature = "aac")]
            Encoder::Aac(e) => (AudioFormat::Aac { config: e.config().to_vec() }, u64::from(e.priming()), 1024),
        };
        let packets = (audio_samples + delay).div_ceil(frame) as usize + 2;
        Some(AudioTrack { format, packets, samples: audio_samples })
    }

    /// Samples (per channel) of the whole mix: the progress total of an audio part.
    pub(super) fn total_samples(&self) -> u64 {
        self.mixer.total_frames()
    }

    /// The next encoded packet, mixing and encoding more when none is waiting; `None` once the
    /// mix has ended and the encoder is drained.
    pub(super) fn next_packet(&mut self) -> Result<Option<AudioPacket>, RenderError> {
        loop {
            if let Some(p) = self.queued.pop_front() {
                return Ok(Some(p));
            }
            if self.done {
                return Ok(None);
            }
            let n = self.mixer.fill(&mut self.buf);
            if let Some((i, e)) = self.mixer.source_error() {
                if let Some((item, true)) = self.items.get(i) {
                    return Err(item_error(item, e.clone()).into());
                }
            }
            let encoder = self.encoder.as_mut().ok_or(RenderError::Pipeline("the audio encoder is gone"))?;
            if n == 0 {
                let enc = self.encoder.take().ok_or(RenderError::Pipeline("the audio encoder is gone"))?;
                self.queued.extend(enc.finish()?);
                self.done = true;
            } else {
                self.queued.extend(encoder.encode(&self.buf[..n * 2])?);
            }
        }
    }
}
