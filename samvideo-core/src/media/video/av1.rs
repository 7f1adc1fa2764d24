//! AV1 decoding with rav1d (the Rust port of dav1d, bit-exact with libdav1d), through its
//! dav1d-compatible C-style API.
//!
//! In: MP4 samples (temporal units of OBUs). Out: 8-bit 4:2:0 pictures in display order,
//! handed to a callback while the picture reference is held; the reference is released
//! right after. All `unsafe` in the video module lives in this file.

// rav1d is driven through its dav1d-compatible C API: the one place `unsafe` is allowed
// (the workspace denies it elsewhere); every block says why it is sound.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dLogger, Dav1dSettings};
use rav1d::include::dav1d::headers::DAV1D_PIXEL_LAYOUT_I420;
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture, dav1d_open,
    dav1d_picture_unref, dav1d_send_data,
};

use super::colour::{ColourInfo, Matrix, Yuv420};
use crate::media::MediaError;

/// A streaming AV1 decoder. Owns one rav1d context; closes it on drop.
pub(crate) struct Av1Decoder {
    ctx: Dav1dContext,
}

// SAFETY: a rav1d context is an `Arc` of internally synchronised state (its entry points take
// `&Rav1dContext` and lock what they mutate); moving the handle to another thread is what
// dav1d allows for its C API. We never use it from two threads at once (`&mut self` methods).
unsafe impl Send for Av1Decoder {}

/// Result codes from rav1d are negative errno values.
fn is_again(code: i32) -> bool {
    code < 0 && std::io::Error::from_raw_os_error(-code).kind() == std::io::ErrorKind::WouldBlock
}

fn fail(what: &str, code: i32) -> MediaError {
    MediaError::Decode(format!("av1: {what} failed ({})", std::io::Error::from_raw_os_error(-code)))
}

impl Av1Decoder {
    /// Opens a decoder. `max_pixels` bounds the frame size rav1d accepts.
    pub(crate) fn new(max_pixels: u32) -> Result<Self, MediaError> {
        let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
        // SAFETY: `dav1d_default_settings` writes a complete `Dav1dSettings` to the pointer,
        // which points to writable memory of the right size and alignment.
        let mut settings = unsafe {
            dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
            settings.assume_init()
        };
        // One frame context and no worker threads: pictures come out of the sample that
        // completes them, and no thread is spawned per clip. Two contexts (frame threading)
        // deadlock in `dav1d_get_picture` on some corrupt streams (a fuzz finding, kept in
        // fuzz/seeds/fuzz_video_decode/); one context aborted the process on a corrupt tile
        // in rav1d 1.1.0 until the upstream fix vendored in vendor/rav1d (SAMVIDEO-PATCH.md).
        settings.n_threads = 1;
        settings.max_frame_delay = 1;
        settings.frame_size_limit = max_pixels;
        // No logger: rav1d's default prints to stderr for every odd OBU of a user's file
        // ("Unknown Metadata OBU type 48"); our errors say what matters, once.
        // SAFETY: with no callback there is nothing to call, so no cookie or printf-style
        // argument contract to uphold.
        settings.logger = unsafe { Dav1dLogger::new(None, None) };
        let mut ctx: Option<Dav1dContext> = None;
        // SAFETY: both pointers are valid for reads/writes for the duration of the call;
        // `settings` was initialised by `dav1d_default_settings`.
        let r = unsafe { dav1d_open(Some(NonNull::from(&mut ctx)), Some(NonNull::from(&mut settings))) };
        match ctx {
            Some(ctx) if r.0 == 0 => Ok(Av1Decoder { ctx }),
            _ => Err(fail("opening the decoder", r.0)),
        }
    }

    /// Decodes one sample; calls `sink` for each picture that comes out.
    pub(crate) fn decode(
        &mut self,
        sample: &[u8],
        colour_hint: Option<ColourInfo>,
        sink: &mut dyn FnMut(Yuv420<'_>, ColourInfo) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        if sample.is_empty() {
            return Ok(());
        }
        super::obu::check_sample(sample)?;
        let mut data = Dav1dData::default();
        // SAFETY: `data` is a valid, writable `Dav1dData`; rav1d allocates `sample.len()` bytes
        // and returns a pointer to them (or null on failure).
        let buf = unsafe { dav1d_data_create(Some(NonNull::from(&mut data)), sample.len()) };
        if buf.is_null() {
            return Err(MediaError::Decode("av1: out of memory for a sample".into()));
        }
        // SAFETY: `buf` points to `sample.len()` writable bytes owned by `data`, which do not
        // overlap `sample`.
        unsafe { std::ptr::copy_nonoverlapping(sample.as_ptr(), buf, sample.len()) };
        let result = self.send_all(&mut data, colour_hint, sink);
        if data.sz > 0 {
            // SAFETY: `data` still holds a reference created by `dav1d_data_create`; unref
            // releases it once (rav1d zeroes the struct).
            unsafe { dav1d_data_unref(Some(NonNull::from(&mut data))) };
        }
        result
    }

    fn send_all(
        &mut self,
        data: &mut Dav1dData,
        colour_hint: Option<ColourInfo>,
        sink: &mut dyn FnMut(Yuv420<'_>, ColourInfo) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        loop {
            // SAFETY: `self.ctx` came from `dav1d_open` and is not closed; `data` is a valid
            // `Dav1dData` created by `dav1d_data_create`. rav1d consumes (part of) it.
            let r = unsafe { dav1d_send_data(Some(self.ctx), Some(NonNull::from(&mut *data))) };
            if r.0 < 0 && !is_again(r.0) {
                return Err(fail("decoding a frame (corrupt stream?)", r.0));
            }
            self.receive(colour_hint, sink)?;
            if data.sz == 0 {
                return Ok(());
            }
        }
    }

    /// Takes out every picture that is ready.
    fn receive(
        &mut self,
        colour_hint: Option<ColourInfo>,
        sink: &mut dyn FnMut(Yuv420<'_>, ColourInfo) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        loop {
            let mut pic = Dav1dPicture::default();
            // SAFETY: `self.ctx` is open; `pic` is a valid, writable picture struct.
            let r = unsafe { dav1d_get_picture(Some(self.ctx), Some(NonNull::from(&mut pic))) };
            if is_again(r.0) {
                return Ok(());
            }
            if r.0 < 0 {
                return Err(fail("decoding a frame (corrupt stream?)", r.0));
            }
            let result = deliver(&pic, colour_hint, sink);
            // SAFETY: `pic` holds a reference returned by `dav1d_get_picture`; released once here,
            // after the borrowed planes given to `sink` are gone.
            unsafe { dav1d_picture_unref(Some(NonNull::from(&mut pic))) };
            result?;
        }
    }

    /// Returns the pictures still inside the decoder (end of stream).
    pub(crate) fn drain(
        &mut self,
        colour_hint: Option<ColourInfo>,
        sink: &mut dyn FnMut(Yuv420<'_>, ColourInfo) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        self.receive(colour_hint, sink)
    }
}

impl Drop for Av1Decoder {
    fn drop(&mut self) {
        let mut ctx = Some(self.ctx);
        // SAFETY: the context came from `dav1d_open` and is closed exactly once, here.
        unsafe { dav1d_close(Some(NonNull::from(&mut ctx))) };
    }
}

fn deliver(
    pic: &Dav1dPicture,
    colour_hint: Option<ColourInfo>,
    sink: &mut dyn FnMut(Yuv420<'_>, ColourInfo) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    if pic.p.bpc != 8 || pic.p.layout != DAV1D_PIXEL_LAYOUT_I420 {
        return Err(MediaError::Decode(format!(
            "unsupported video codec av1 with {}-bit samples or non-4:2:0 chroma (supported: 8-bit 4:2:0)",
            pic.p.bpc
        )));
    }
    let (w, h) = (pic.p.w.max(0) as usize, pic.p.h.max(0) as usize);
    let (ys, uvs) = (pic.stride[0], pic.stride[1]);
    let (Some(y), Some(u), Some(v)) = (pic.data[0], pic.data[1], pic.data[2]) else {
        return Err(MediaError::Decode("av1: decoder returned a picture without planes".into()));
    };
    if ys <= 0 || uvs <= 0 || w == 0 || h == 0 {
        return Err(MediaError::Decode("av1: decoder returned an empty picture".into()));
    }
    let (ys, uvs) = (ys as usize, uvs as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    // SAFETY: for an 8-bit I420 picture rav1d allocates each plane with at least `stride`
    // bytes per row for `height` rows (luma) and `(height + 1) / 2` rows (chroma), and the
    // buffers stay alive while `pic` holds its reference (until `dav1d_picture_unref`).
    // We only read the last row up to the visible width.
    let planes = unsafe {
        Yuv420 {
            y: std::slice::from_raw_parts(y.as_ptr().cast::<u8>(), ys * (h - 1) + w),
            u: std::slice::from_raw_parts(u.as_ptr().cast::<u8>(), uvs * (ch - 1) + cw),
            v: std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), uvs * (ch - 1) + cw),
            y_stride: ys,
            uv_stride: uvs,
            width: w,
            height: h,
        }
    };
    let colour = pic
        .seq_hdr
        .map(|s| {
            // SAFETY: `seq_hdr` points into the picture's sequence header reference, alive
            // while `pic` is referenced.
            let s = unsafe { s.as_ref() };
            ColourInfo { matrix: Matrix::from_code(s.mtrx), full_range: s.color_range != 0 }
        })
        .or(colour_hint)
        .unwrap_or_default();
    sink(planes, colour)
}
