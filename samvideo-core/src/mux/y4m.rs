//! YUV4MPEG2 output: 8-bit 4:2:0 frames for piping into other tools and for measuring
//! quality against a lossless reference.

use std::io::Write;

use crate::frame::Yuv420;
use crate::frame_rate::FrameRate;

/// Streams frames into a Y4M file.
pub struct Y4mWriter<W: Write> {
    out: W,
}

impl<W: Write> Y4mWriter<W> {
    /// Write the stream header.
    pub fn new(mut out: W, width: u32, height: u32, fps: FrameRate) -> std::io::Result<Self> {
        let (num, den) = fps.as_fraction();
        writeln!(out, "YUV4MPEG2 W{width} H{height} F{num}:{den} Ip A1:1 C420jpeg XCOLORRANGE=LIMITED")?;
        Ok(Y4mWriter { out })
    }

    /// Append one frame.
    pub fn write_frame(&mut self, f: &Yuv420) -> std::io::Result<()> {
        self.out.write_all(b"FRAME\n")?;
        self.out.write_all(&f.y)?;
        self.out.write_all(&f.u)?;
        self.out.write_all(&f.v)
    }

    /// Flush and return the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
