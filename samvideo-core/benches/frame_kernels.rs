//! Per-frame compositing kernels at 720p and 1080p: cross-fade, Ken Burns bilinear sampling
//! (also at 854x480 and 1080x1920), overlay blending, the RGBA -> Y'CbCr 4:2:0 conversion
//! (scalar reference vs the `yuv` crate's SIMD path the renderer uses), caption pages (per
//! frame, and once per page), plus the once-per-still cover resize for scale.
//! Run: `cargo bench -p samvideo-core --bench frame_kernels` (add `-- --quick` for a short run).
//! Numbers and what they mean for a whole render: `docs/performance.md`.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use samvideo_core::compose::blend::blend_layer;
use samvideo_core::compose::caption::Captions;
use samvideo_core::compose::picture::{cover, sample_zoomed};
use samvideo_core::compose::transition::fade;
use samvideo_core::frame::yuv::{rgba_to_yuv420, rgba_to_yuv420_scalar};
use samvideo_core::frame::{Rgba, Yuv420};
use samvideo_core::plan::{CaptionBox, CaptionLook, CaptionPage, CaptionWord, FontFamily, SafeArea, VerticalPosition};

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];
/// Ken Burns also at the `low` size and the vertical `high` size (a 9:16 Short).
const KEN_BURNS_SIZES: [(u32, u32); 4] = [(854, 480), (1280, 720), (1920, 1080), (1080, 1920)];

/// Textured opaque picture (xorshift noise over a gradient): no kernel gets a flat-input
/// shortcut.
fn picture(w: u32, h: u32, seed: u64) -> Rgba {
    let mut x = seed | 1;
    let mut img = Rgba::filled(w, h, [0, 0, 0, 255]);
    for (i, px) in img.data.chunks_exact_mut(4).enumerate() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let g = ((i as u32 % w) * 255 / w) as u8;
        px[0] = g.wrapping_add(x as u8 & 63);
        px[1] = (x >> 8) as u8;
        px[2] = 255 - g;
    }
    img
}

fn label(w: u32, h: u32) -> String {
    format!("{w}x{h}")
}

fn bench_kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("fade");
    for (w, h) in SIZES {
        let (a, b) = (picture(w, h, 1), picture(w, h, 2));
        let mut out = Rgba::filled(w, h, [0; 4]);
        g.throughput(Throughput::Elements(u64::from(w * h)));
        g.bench_function(BenchmarkId::from_parameter(label(w, h)), |bn| {
            bn.iter(|| fade(black_box(&a.data), black_box(&b.data), 0.37, &mut out.data))
        });
    }
    g.finish();

    // Ken Burns: the still is prepared at the largest zoom (1 + 0.3 * 0.5 = 1.15x the frame)
    // and sampled per frame at an intermediate scale.
    let mut g = c.benchmark_group("ken_burns_sample");
    for (w, h) in KEN_BURNS_SIZES {
        let src = picture((w as f32 * 1.15).round() as u32, (h as f32 * 1.15).round() as u32, 3);
        let mut out = Rgba::filled(w, h, [0; 4]);
        g.throughput(Throughput::Elements(u64::from(w * h)));
        g.bench_function(BenchmarkId::from_parameter(label(w, h)), |bn| {
            bn.iter(|| sample_zoomed(black_box(&src), &mut out, 1.07))
        });
    }
    g.finish();

    // A caption band: full width, 12 % of the height, half-transparent.
    let mut g = c.benchmark_group("overlay_blend");
    for (w, h) in SIZES {
        let mut band = picture(w, h * 12 / 100, 4);
        for px in band.data.chunks_exact_mut(4) {
            px[3] = 160;
        }
        let mut canvas = picture(w, h, 5);
        g.throughput(Throughput::Elements(u64::from(band.width * band.height)));
        g.bench_function(BenchmarkId::from_parameter(label(w, h)), |bn| {
            bn.iter(|| blend_layer(&mut canvas, black_box(&band), 0, i64::from(h * 80 / 100), 0.9))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("rgba_to_yuv420");
    for (w, h) in SIZES {
        let src = picture(w, h, 6);
        let mut dst = Yuv420::new(w, h);
        g.throughput(Throughput::Elements(u64::from(w * h)));
        g.bench_function(BenchmarkId::new("scalar", label(w, h)), |bn| {
            bn.iter(|| rgba_to_yuv420_scalar(black_box(&src), &mut dst))
        });
        g.bench_function(BenchmarkId::new("yuv_crate", label(w, h)), |bn| {
            bn.iter(|| rgba_to_yuv420(black_box(&src), &mut dst))
        });
    }
    g.finish();

    // Once per still: 1080p source cover-resized (Lanczos3) to the frame.
    let mut g = c.benchmark_group("cover_resize_from_1920x1080");
    g.sample_size(20);
    let src = picture(1920, 1080, 7);
    for (w, h) in SIZES {
        g.bench_function(BenchmarkId::from_parameter(label(w, h)), |bn| bn.iter(|| cover(black_box(&src), w, h)));
    }
    g.finish();
}

/// A `highlight` caption page of four words at the output size (the plan's 1080p look: 72 px
/// at a 1080 short side, 6 px outline), spoken over 60 frames.
fn caption_page(w: u32, h: u32) -> CaptionPage {
    let short = w.min(h) as f32;
    let look = CaptionLook {
        font_px: 72.0 * short / 1080.0,
        color: [255; 4],
        highlight: Some([255, 212, 0, 255]),
        boxed: CaptionBox::None,
        box_color: [0; 4],
        stroke: ([0, 0, 0, 255], 6.0 * short / 1080.0),
        shadow: false,
        pop_frames: 0,
        max_lines: 2,
        position: VerticalPosition::Bottom,
        offset: 0.0,
        safe_area: SafeArea { left: 0.05, right: 0.95, top: 0.05, bottom: 0.95 },
        family: FontFamily::DejaVuSans,
        font: None,
    };
    let words = ["Captions", "people", "actually", "read"]
        .iter()
        .enumerate()
        .map(|(k, t)| CaptionWord { text: t.to_string(), start: k as u64 * 15, end: k as u64 * 15 + 15 })
        .collect();
    CaptionPage { words, start: 0, end: 60, look: Arc::new(look) }
}

/// Caption compositing per frame: drawing a laid-out page (the spoken word changing every 15
/// frames), and a page's first frame (layout, shaping, outline: once per page).
fn bench_captions(c: &mut Criterion) {
    let mut g = c.benchmark_group("caption_draw");
    for (w, h) in SIZES {
        let mut captions = Captions::new(vec![caption_page(w, h)], w, h);
        let mut canvas = picture(w, h, 8);
        let mut n = 0u64;
        g.bench_function(BenchmarkId::from_parameter(label(w, h)), |bn| {
            bn.iter(|| {
                captions.draw(n % 60, &mut canvas);
                n += 1;
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("caption_first_frame");
    g.sample_size(20);
    for (w, h) in SIZES {
        let page = caption_page(w, h);
        let mut canvas = picture(w, h, 9);
        g.bench_function(BenchmarkId::from_parameter(label(w, h)), |bn| {
            bn.iter(|| Captions::new(vec![page.clone()], w, h).draw(0, &mut canvas))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_kernels, bench_captions);
criterion_main!(benches);
