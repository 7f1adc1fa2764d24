//! Pixel buffers: an RGBA canvas the compositor draws into, and the 8-bit 4:2:0 planes
//! the encoder takes.
//!
//! Enter: decoded images and text layers (RGBA8, straight alpha). Leave: [`Yuv420`] frames
//! converted by [`yuv::rgba_to_yuv420`] (BT.709, limited range).

pub mod yuv;

/// An RGBA8 image, tightly packed rows, straight (not premultiplied) alpha.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgba {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Rgba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgba({}x{})", self.width, self.height)
    }
}

impl Rgba {
    /// A buffer filled with one colour.
    pub fn filled(width: u32, height: u32, px: [u8; 4]) -> Self {
        let mut data = vec![0u8; width as usize * height as usize * 4];
        for chunk in data.chunks_exact_mut(4) {
            chunk.copy_from_slice(&px);
        }
        Rgba { width, height, data }
    }

    /// Fill with one colour, keeping the allocation.
    pub fn fill(&mut self, px: [u8; 4]) {
        for chunk in self.data.chunks_exact_mut(4) {
            chunk.copy_from_slice(&px);
        }
    }

    /// The pixel at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [self.data[i], self.data[i + 1], self.data[i + 2], self.data[i + 3]]
    }
}

/// One 8-bit 4:2:0 frame (even width and height).
#[derive(Clone, PartialEq, Eq)]
pub struct Yuv420 {
    /// Luma width.
    pub width: u32,
    /// Luma height.
    pub height: u32,
    /// `width * height` bytes.
    pub y: Vec<u8>,
    /// `width/2 * height/2` bytes.
    pub u: Vec<u8>,
    /// `width/2 * height/2` bytes.
    pub v: Vec<u8>,
}

impl Yuv420 {
    /// An all-black (limited range) frame.
    pub fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width as usize, height as usize);
        Yuv420 { width, height, y: vec![16; w * h], u: vec![128; w * h / 4], v: vec![128; w * h / 4] }
    }
}
