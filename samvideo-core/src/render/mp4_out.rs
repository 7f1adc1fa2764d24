//! MP4 output: the segment workers encode in parallel and this writes their packets in
//! segment order, interleaved with the audio feed, into the MP4.
//!
//! [`Mp4Mux`] is the one muxing rule, shared by the in-process render ([`write_mp4`]) and the
//! finalize of a split render (`parts/`): the file is sized from the plan and the audio
//! track, each video packet is written in order and followed by the audio up to half a second
//! ahead of it, the rest of the audio goes last. Both paths feed it the same packets, so both
//! write the same bytes.
//!
//! Enter: the plan, the checked visuals and the mix (or, for the finalize, packets read back
//! from parts). Leave: the MP4 file's size.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::audio::AudioPacket;
use crate::frame_rate::FrameRate;
use crate::mux::mp4::{AudioTrack, Mp4Writer, MuxError};
use crate::plan::RenderPlan;

use super::api::{Progress, RenderError, RenderOptions};
use super::assets::Visuals;
use super::audio_feed::{AudioFeed, PlanMix};
use super::segments;

/// Audio runs up to this many 48 kHz samples (0.5 s) ahead of the video in the file.
const AUDIO_LEAD: u64 = 24_000;

/// Where the MP4's audio packets come from: the live mix ([`AudioFeed`]) or an audio part.
pub(super) trait AudioPackets {
    /// What a failure to produce a packet is (the muxer's own errors become it too).
    type Error: From<RenderError>;
    /// The next packet in order; `None` at the end (and every call after it).
    fn next_packet(&mut self) -> Result<Option<AudioPacket>, Self::Error>;
}

impl AudioPackets for AudioFeed {
    type Error = RenderError;
    fn next_packet(&mut self) -> Result<Option<AudioPacket>, RenderError> {
        AudioFeed::next_packet(self)
    }
}

fn mux_error<E: From<RenderError>>(e: MuxError) -> E {
    E::from(RenderError::from(e))
}

/// An MP4 being written: video packets in order, the audio interleaved ahead of them.
pub(super) struct Mp4Mux<'p, A: AudioPackets> {
    mp4: Mp4Writer,
    audio: Option<A>,
    /// Audio samples written so far.
    audio_written: u64,
    plan_frames: u64,
    fps: FrameRate,
    /// Video packets written so far.
    written: u64,
    progress: &'p Progress,
}

impl<'p, A: AudioPackets> Mp4Mux<'p, A> {
    /// Create `out` for `plan`'s video and, when given, this audio track and its packets.
    pub(super) fn create(
        plan: &RenderPlan,
        out: &Path,
        audio: Option<(AudioTrack, A)>,
        progress: &'p Progress,
    ) -> Result<Self, A::Error> {
        let (track, audio) = match audio {
            Some((track, packets)) => (Some(track), Some(packets)),
            None => (None, None),
        };
        let mp4 = Mp4Writer::create(out, plan.width, plan.height, plan.fps, plan.frame_count, plan.codec, track)
            .map_err(mux_error)?;
        Ok(Mp4Mux { mp4, audio, audio_written: 0, plan_frames: plan.frame_count, fps: plan.fps, written: 0, progress })
    }

    /// Write the next video packet, then the audio due with it.
    pub(super) fn video(&mut self, data: &[u8], keyframe: bool) -> Result<(), A::Error> {
        self.mp4.write_video(data, keyframe).map_err(mux_error)?;
        self.written += 1;
        self.progress.frame_done(self.written);
        self.audio_until(self.fps.ticks_at(self.written, 48_000) + AUDIO_LEAD)
    }

    fn audio_until(&mut self, until: u64) -> Result<(), A::Error> {
        let Some(audio) = self.audio.as_mut() else { return Ok(()) };
        while self.audio_written < until {
            let Some(p) = audio.next_packet()? else { return Ok(()) };
            self.mp4.write_audio(&p.data, p.samples).map_err(mux_error)?;
            self.audio_written += u64::from(p.samples);
        }
        Ok(())
    }

    /// Check every frame is in, write the rest of the audio and the `moov`; the file's size.
    pub(super) fn finish(mut self) -> Result<u64, A::Error> {
        if self.written != self.plan_frames {
            return Err(RenderError::Pipeline("the encoder returned fewer frames than it was given").into());
        }
        self.audio_until(u64::MAX)?;
        self.mp4.finish().map_err(mux_error)
    }
}

pub(super) fn write_mp4(
    plan: &RenderPlan,
    visuals: &Arc<Visuals>,
    mixer: Option<PlanMix>,
    out: &Path,
    progress: &Progress,
    options: &RenderOptions,
) -> Result<u64, RenderError> {
    let workers = if options.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        options.threads
    };
    let audio = mixer.map(|m| AudioFeed::new(m, plan.codec.audio())).transpose()?;
    let audio = audio.and_then(|feed| Some((feed.track()?, feed)));
    let mut mp4 = Mp4Mux::create(plan, out, audio, progress)?;
    let workers = segments::spawn(plan, visuals, workers, options);
    let segment_count = segments::segments(plan).len();
    // Packets of segments that finished ahead of their turn, and which segments are done.
    let mut waiting: HashMap<usize, std::collections::VecDeque<crate::encode::Packet>> = HashMap::new();
    let mut done = vec![false; segment_count];
    let mut current = 0;
    while current < segment_count {
        if options.cancel.is_cancelled() {
            return Err(RenderError::Cancelled);
        }
        match workers.rx.recv() {
            Ok(segments::WorkerMsg::Packets { segment, packets }) => {
                waiting.entry(segment).or_default().extend(packets)
            }
            Ok(segments::WorkerMsg::Done { segment }) => done[segment] = true,
            Ok(segments::WorkerMsg::Failed(e)) => return Err(e),
            Err(_) => return Err(RenderError::Pipeline("the encoder workers stopped unexpectedly")),
        }
        // Write what is due, in order: the current segment's packets, then the next ones'.
        while current < segment_count {
            for p in waiting.remove(&current).unwrap_or_default() {
                mp4.video(&p.data, p.keyframe)?;
            }
            if !done[current] {
                break;
            }
            current += 1;
        }
    }
    drop(workers);
    mp4.finish()
}
