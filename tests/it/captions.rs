//! Caption presets end to end (`docs/captions.md`): mix-video specs with transcripts rendered
//! to raw frames (Y4M, so every frame is exactly what the compositor drew), decoded by ffmpeg
//! and read pixel by pixel: where the spoken word's colour is, how many words a frame shows,
//! how a popping word grows, capitals, outlines, and that every preset stays in the safe area.

use crate::support::*;
use samvideo_core::request::Endpoint;
use serde_json::{json, Value};

/// Dark blue: neither white text, black outline nor the highlight yellow.
const BACKDROP: [u8; 4] = [20, 40, 110, 255];
const FPS: u32 = 15;

/// A 9:16 (480x854) mix-video of `secs` over the backdrop with one transcript entry.
fn spec(words: &str, start: f64, end: f64, secs: f64, style: Option<&str>, styling: Value) -> Value {
    let mut settings = json!({"aspect_ratio": "9:16", "output_quality": "low", "fps": FPS, "caption_styling": styling});
    if let Some(style) = style {
        settings["caption_style"] = json!(style);
    }
    json!({"media_list": [{"type": "image", "url": "backdrop.png", "duration": secs}],
        "transcripts": [{"words": words, "start": start, "end": end}], "settings": settings})
}

/// Render `spec` to Y4M in `dir` and decode every frame with ffmpeg.
fn frames_of(dir: &std::path::Path, name: &str, spec: &Value) -> Vec<Frame> {
    let out = dir.join(name);
    render(dir, Endpoint::MixVideo, spec, &out, Format::Y4m);
    let frames = all_frames(&out);
    let _ = std::fs::remove_file(&out);
    frames
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    solid_png(dir.path(), "backdrop.png", 64, 64, BACKDROP);
    dir
}

fn px(f: &Frame, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * f.0 + x) * 3) as usize;
    [f.2[i], f.2[i + 1], f.2[i + 2]]
}

/// The highlight yellow (#FFD400): red and green high, blue low.
fn is_yellow(p: [u8; 3]) -> bool {
    p[0] > 180 && p[1] > 140 && p[2] < 90
}

/// Anything the caption drew: far from the backdrop as decoded (`bg`, a corner pixel: Y4M
/// carries no colour matrix, so ffmpeg's reading of the backdrop differs a little from ours).
fn ink(bg: [u8; 3]) -> impl Fn([u8; 3]) -> bool {
    move |p| (0..3).map(|c| (i32::from(p[c]) - i32::from(bg[c])).abs()).sum::<i32>() > 60
}

/// Pixels of `f` matching `pred`: (count, x range, y range, mean x).
fn find(f: &Frame, pred: impl Fn([u8; 3]) -> bool) -> (u32, (u32, u32), (u32, u32), f64) {
    let (mut n, mut xs, mut ys, mut sum) = (0u32, (u32::MAX, 0), (u32::MAX, 0), 0f64);
    for y in 0..f.1 {
        for x in 0..f.0 {
            if pred(px(f, x, y)) {
                n += 1;
                xs = (xs.0.min(x), xs.1.max(x));
                ys = (ys.0.min(y), ys.1.max(y));
                sum += f64::from(x);
            }
        }
    }
    (n, xs, ys, if n > 0 { sum / f64::from(n) } else { f64::NAN })
}

/// Runs of columns holding pixels matching `pred`, separated by at least `gap` empty columns:
/// the words of a caption line, left to right.
fn column_runs(f: &Frame, gap: u32, pred: impl Fn([u8; 3]) -> bool) -> Vec<(u32, u32)> {
    let cols: Vec<bool> = (0..f.0).map(|x| (0..f.1).any(|y| pred(px(f, x, y)))).collect();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for (x, _) in cols.iter().enumerate().filter(|(_, c)| **c) {
        let x = x as u32;
        match runs.last_mut() {
            Some(r) if x <= r.1 + gap => r.1 = x,
            _ => runs.push((x, x)),
        }
    }
    runs
}

/// `highlight`: the yellow is inside word k's box exactly while k is spoken (one frame of
/// slack at each change), nowhere when the page is gone, and its centroid moves left to right.
#[test]
fn highlight_colours_the_spoken_word_only_while_it_is_spoken() {
    let dir = setup();
    // Three 3-letter words over 0..3 s: each spoken for 1 s (15 frames); 1 s without captions.
    let frames = frames_of(dir.path(), "hl.y4m", &spec("one two six", 0.0, 3.0, 4.0, Some("highlight"), json!({})));
    assert_eq!(frames.len(), 60);
    // Word boxes from the page itself: the columns of its ink (outlined glyphs).
    let words = column_runs(&frames[20], 6, ink(px(&frames[0], 1, 1)));
    assert_eq!(words.len(), 3, "three words on the page: {words:?}");
    let mut centroids = Vec::new();
    for (n, f) in frames.iter().enumerate() {
        let (count, xs, _, mean) = find(f, is_yellow);
        if n >= 45 {
            assert_eq!(count, 0, "frame {n}: no caption after the page");
            continue;
        }
        let k = n / 15;
        let near_change = n % 15 == 0 || n % 15 == 14;
        if near_change {
            continue;
        }
        assert!(count > 30, "frame {n}: word {k} is highlighted ({count} px)");
        let (x0, x1) = words[k];
        assert!(xs.0 + 2 >= x0 && xs.1 <= x1 + 2, "frame {n}: yellow x {xs:?} outside word {k} {:?}", words[k]);
        if n % 15 == 7 {
            centroids.push(mean);
        }
    }
    eprintln!("highlight centroids x: {centroids:?}");
    assert!(centroids.windows(2).all(|w| w[0] + 20.0 < w[1]), "left to right: {centroids:?}");
    // Between word changes nothing changes: the frames are identical (static-frame reuse).
    assert_eq!(frames[3].2, frames[12].2);
}

/// `one-word`: every frame with a caption shows one word, and the longer word is wider.
#[test]
fn one_word_shows_one_word_at_a_time() {
    let dir = setup();
    // "I" 0..0.2 s, "like" 0.2..1.0 s, "elephants" 1.0..2.8 s (by characters).
    let frames =
        frames_of(dir.path(), "one.y4m", &spec("I like elephants", 0.0, 2.8, 3.0, Some("one-word"), json!({})));
    let mut widths = Vec::new();
    let is_ink = ink(px(&frames[0], 1, 1));
    for (n, f) in frames.iter().enumerate() {
        let runs = column_runs(f, 6, &is_ink);
        if n < 42 {
            assert_eq!(runs.len(), 1, "frame {n}: one word ({runs:?})");
            widths.push((n, runs[0].1 - runs[0].0));
        } else {
            assert!(runs.is_empty(), "frame {n}: none after the entry");
        }
    }
    let width = |n: usize| widths[n].1;
    eprintln!("one-word widths: I {} like {} elephants {}", width(1), width(8), width(30));
    assert!(width(1) < width(8) && width(8) < width(30), "{widths:?}");
}

/// `pop`: the spoken word is smaller on its first frame than 120 ms (2 frames at 15 fps) later.
#[test]
fn pop_grows_the_spoken_word() {
    let dir = setup();
    // "big" 0..1 s, "red" 1..2 s, "cat" 2..3 s: "red" starts at frame 15.
    let frames = frames_of(dir.path(), "pop.y4m", &spec("big red cat", 0.0, 3.0, 3.0, Some("pop"), json!({})));
    let is_ink = ink(px(&frames[0], 1, 1));
    let words = column_runs(&frames[40], 6, &is_ink);
    assert_eq!(words.len(), 3, "{words:?}");
    let (x0, x1) = words[1];
    let boxed = |f: &Frame| {
        let mut b = (u32::MAX, 0, u32::MAX, 0);
        for y in 0..f.1 {
            for x in x0..=x1 {
                if is_ink(px(f, x, y)) {
                    b = (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y));
                }
            }
        }
        (b.1 - b.0, b.3 - b.2)
    };
    let (first, later) = (boxed(&frames[15]), boxed(&frames[17]));
    eprintln!("pop: spoken word {first:?} at its first frame, {later:?} 120 ms later");
    assert!(first.0 < later.0 && first.1 < later.1, "{first:?} vs {later:?}");
    assert!(f64::from(first.0) < 0.9 * f64::from(later.0), "about 80 %: {first:?} vs {later:?}");
    assert_eq!(boxed(&frames[17]), boxed(&frames[29]), "full size after the pop");
}

/// `boxed-word`: the box (here green) sits behind the spoken word only and moves with it;
/// `boxed-line`: one box per line, each as wide as its own line.
#[test]
fn boxed_word_boxes_the_spoken_word_and_boxed_line_each_line() {
    let dir = setup();
    let green = |p: [u8; 3]| p[1] > 180 && p[0] < 90 && p[2] < 90;
    let styling = json!({"background_color": "#00FF00"});
    let frames = frames_of(dir.path(), "bw.y4m", &spec("one two six", 0.0, 3.0, 3.0, Some("boxed-word"), styling));
    let mut boxes = Vec::new();
    for n in [7, 22, 37] {
        let (count, xs, ys, _) = find(&frames[n], green);
        assert!(count > 300, "frame {n}: a box behind the spoken word ({count} px)");
        boxes.push((xs, ys));
    }
    eprintln!("boxed-word boxes (x, y): {boxes:?}");
    assert!(boxes.windows(2).all(|w| w[0].0 .1 < w[1].0 .0), "one word's box each, left to right: {boxes:?}");
    assert!(boxes.iter().all(|b| b.1 == boxes[0].1), "on the same line");
    // A line box: the backdrop shows between the lines' boxes only where the lines differ.
    let styling = json!({"background_color": "#00FF00", "max_lines": 2});
    let words = "wide words on top and more";
    let frames = frames_of(dir.path(), "bl.y4m", &spec(words, 0.0, 1.0, 1.0, Some("boxed-line"), styling));
    let f = &frames[7];
    let (_, _, ys, _) = find(f, green);
    let rows: Vec<(u32, u32)> = (ys.0..=ys.1)
        .filter_map(|y| {
            let xs: Vec<u32> = (0..f.0).filter(|&x| green(px(f, x, y))).collect();
            Some((*xs.first()?, *xs.last()?))
        })
        .collect();
    let (top, bottom) = (rows[2], rows[rows.len() - 3]);
    eprintln!("boxed-line: top line box x {top:?}, bottom line box x {bottom:?}");
    assert_ne!(top, bottom, "each line has its own box, as wide as the line");
}

/// `uppercase` draws capitals: the same frames as the text sent in capitals, unlike lower case.
#[test]
fn uppercase_renders_capitals_and_stroke_outlines_the_glyphs() {
    let dir = setup();
    let upper = frames_of(dir.path(), "u.y4m", &spec("hello world", 0.0, 1.0, 1.0, None, json!({"uppercase": true})));
    let caps = frames_of(dir.path(), "c.y4m", &spec("HELLO WORLD", 0.0, 1.0, 1.0, None, json!({})));
    let lower = frames_of(dir.path(), "l.y4m", &spec("hello world", 0.0, 1.0, 1.0, None, json!({})));
    assert!(upper[5].2 == caps[5].2, "uppercase: the same pixels as capitals");
    assert!(upper[5].2 != lower[5].2, "and not lower case");

    // A magenta outline, no box: magenta pixels hug the white glyphs; none without a width.
    let magenta = |p: [u8; 3]| p[0] > 150 && p[1] < 90 && p[2] > 150;
    let white = |p: [u8; 3]| p[0] > 200 && p[1] > 200 && p[2] > 200;
    let styling = |w: f64| json!({"stroke_color": "#FF00FF", "stroke_width": w, "background_color": "#00000000"});
    let stroked = frames_of(dir.path(), "s.y4m", &spec("Outline", 0.0, 1.0, 1.0, None, styling(8.0)));
    let plain = frames_of(dir.path(), "p.y4m", &spec("Outline", 0.0, 1.0, 1.0, None, styling(0.0)));
    let (m, mx, my, _) = find(&stroked[5], magenta);
    let (_, wx, wy, _) = find(&stroked[5], white);
    eprintln!("stroke: {m} magenta px in x {mx:?} y {my:?} around white x {wx:?} y {wy:?}");
    assert!(m > 200, "stroke pixels drawn: {m}");
    // 8 px at 1080 is 3.6 px at 480: the outline surrounds the glyphs by about that much.
    for (o, i) in [(mx.0, wx.0), (my.0, wy.0)] {
        assert!(o < i && i - o <= 7, "outline starts just before the glyphs: {o} vs {i}");
    }
    for (o, i) in [(mx.1, wx.1), (my.1, wy.1)] {
        assert!(o > i && o - i <= 7, "outline ends just after the glyphs: {o} vs {i}");
    }
    assert_eq!(find(&plain[5], magenta).0, 0, "stroke_width 0: no outline");
}

/// `text_color` paints the words; `shadow` adds dark pixels below and right of them only.
#[test]
fn text_color_and_shadow() {
    let dir = setup();
    let cyan = |p: [u8; 3]| p[0] < 90 && p[1] > 180 && p[2] > 180;
    let styling = |shadow: bool| json!({"text_color": "#00FFFF", "background_color": "#00000000", "shadow": shadow});
    let with = frames_of(dir.path(), "sh.y4m", &spec("Shadow", 0.0, 1.0, 1.0, Some("classic"), styling(true)));
    let without = frames_of(dir.path(), "ns.y4m", &spec("Shadow", 0.0, 1.0, 1.0, Some("classic"), styling(false)));
    // Darker than the backdrop in every channel (the shadow is translucent black).
    let bg = px(&with[0], 1, 1);
    let dark = |p: [u8; 3]| (0..3).all(|c| f64::from(p[c]) < f64::from(bg[c]) * 0.7);
    let (n, cx, cy, _) = find(&with[5], cyan);
    assert!(n > 300, "cyan text: {n} px");
    let (d, dx, dy, _) = find(&with[5], dark);
    eprintln!("shadow: {d} dark px x {dx:?} y {dy:?} under cyan x {cx:?} y {cy:?}");
    assert!(d > 100, "a shadow is drawn: {d} px");
    assert!(dx.1 > cx.1 && dy.1 > cy.1 && dx.0 > cx.0 && dy.0 > cy.0, "below and right of the text");
    assert_eq!(find(&without[5], dark).0, 0, "no shadow without shadow: true");
}

/// Every preset keeps every caption pixel inside the platform safe area, on every frame, for a
/// long entry (wrapped to the preset's lines, shrunk where it must).
#[test]
fn every_preset_stays_in_the_safe_area() {
    let dir = setup();
    let words = "Captions stay clear of the buttons on every platform incomprehensibilities included";
    let area = |aspect: &str| match aspect {
        "9:16" => (0.06, 0.86, 0.12, 0.80),
        _ => (0.05, 0.95, 0.05, 0.95),
    };
    let cases = [
        ("highlight", "9:16", json!({})),
        ("boxed-line", "9:16", json!({"max_words": 12, "max_lines": 3})),
        ("boxed-word", "9:16", json!({"max_lines": 1, "offset_percent": 50})),
        ("one-word", "9:16", json!({"font_size": 200})),
        ("pop", "9:16", json!({"shadow": true, "position": "top"})),
        ("boxed-line", "16:9", json!({"max_words": 12, "max_lines": 2})),
        ("highlight", "1:1", json!({"max_words": 12, "max_lines": 1})),
    ];
    for (style, aspect, styling) in cases {
        let mut s = spec(words, 0.0, 2.0, 2.0, Some(style), styling.clone());
        s["settings"]["aspect_ratio"] = json!(aspect);
        let frames = frames_of(dir.path(), "safe.y4m", &s);
        let (x0, x1, y0, y1) = area(aspect);
        let mut seen = 0;
        for (n, f) in frames.iter().enumerate().step_by(3) {
            let (count, xs, ys, _) = find(f, ink(px(f, 1, 1)));
            if count == 0 {
                continue;
            }
            seen += 1;
            let (fw, fh) = (f64::from(f.0), f64::from(f.1));
            let (bx0, bx1, by0, by1) =
                (f64::from(xs.0) / fw, f64::from(xs.1) / fw, f64::from(ys.0) / fh, f64::from(ys.1) / fh);
            let (sx, sy) = (1.5 / fw, 1.5 / fh);
            assert!(
                bx0 >= x0 - sx && bx1 <= x1 + sx && by0 >= y0 - sy && by1 <= y1 + sy,
                "{style} {aspect} {styling} frame {n}: x {bx0:.3}..{bx1:.3} y {by0:.3}..{by1:.3}"
            );
        }
        assert!(seen >= 5, "{style} {aspect}: captions drawn on {seen} sampled frames");
    }
}

/// A 9:16 mix-video of `secs` over the backdrop whose captions come from a subtitle file
/// (`key`: `transcript_srt` or `transcript_vtt`).
fn subtitle_spec(key: &str, file: &str, secs: f64, style: &str) -> Value {
    json!({"media_list": [{"type": "image", "url": "backdrop.png", "duration": secs}], key: file,
        "settings": {"aspect_ratio": "9:16", "output_quality": "low", "fps": FPS, "caption_style": style}})
}

/// Frames within one frame of any of `boundaries` (seconds) are not judged: a time that falls
/// between two frames may round either way.
fn near(n: usize, boundaries: &[f64]) -> bool {
    boundaries.iter().any(|b| (n as f64 - b * f64::from(FPS)).abs() <= 1.0)
}

/// `transcript_vtt` with timestamp tags: each word is highlighted from its own tag's time
/// (within one frame), not from a share of the cue by characters; `transcript_srt`: each cue's
/// caption shows from its start to its end (within one frame), and nowhere else.
#[test]
fn subtitle_files_time_the_captions_within_a_frame() {
    let dir = setup();
    // alpha 0.4–1.3 s, beta 1.3–1.5 s, gamma 1.5–2.6 s. Shared by characters the cue would give
    // beta 1.19–1.81 s: its first frame would be 18, not 20.
    let times = [0.4, 1.3, 1.5, 2.6];
    let vtt = "WEBVTT\n\n00:00:00.400 --> 00:00:02.600\nalpha <00:00:01.300>beta <00:00:01.500>gamma\n";
    let frames = frames_of(dir.path(), "vtt.y4m", &subtitle_spec("transcript_vtt", vtt, 3.0, "highlight"));
    assert_eq!(frames.len(), 45);
    let words = column_runs(&frames[10], 6, ink(px(&frames[0], 1, 1)));
    assert_eq!(words.len(), 3, "three words on the page: {words:?}");
    let spoken: Vec<Option<usize>> = frames
        .iter()
        .map(|f| {
            let (count, _, _, mean) = find(f, is_yellow);
            (count > 30).then(|| words.iter().position(|w| mean >= f64::from(w.0) && mean <= f64::from(w.1)))?
        })
        .collect();
    for (n, got) in spoken.iter().enumerate() {
        let t = n as f64 / f64::from(FPS);
        let want = (0..3).find(|&k| t >= times[k] && t < times[k + 1]);
        assert!(near(n, &times) || *got == want, "frame {n}: spoken {got:?}, the file says {want:?}");
    }
    for (k, tag) in times[..3].iter().enumerate() {
        let first = spoken.iter().position(|s| *s == Some(k)).expect("word highlighted");
        let at = tag * f64::from(FPS);
        eprintln!("vtt word {k}: first highlighted frame {first}, tag at frame {at:.1}");
        assert!((first as f64 - at).abs() <= 1.0, "word {k} first highlighted at frame {first}, tag at {at:.1}");
    }

    let srt = "1\n00:00:00,500 --> 00:00:01,200\nHello there\n\n2\n00:00:02,000 --> 00:00:02,900\n<i>Second</i> cue\n";
    let frames = frames_of(dir.path(), "srt.y4m", &subtitle_spec("transcript_srt", srt, 3.0, "classic"));
    let cues = [(0.5, 1.2), (2.0, 2.9)];
    let edges = [0.5, 1.2, 2.0, 2.9];
    let is_ink = ink(px(&frames[0], 1, 1));
    for (n, f) in frames.iter().enumerate() {
        let t = n as f64 / f64::from(FPS);
        let want = cues.iter().any(|(a, b)| t >= *a && t < *b);
        let got = find(f, &is_ink).0 > 100;
        assert!(near(n, &edges) || got == want, "frame {n} ({t:.2} s): caption {got}, the file says {want}");
    }
}

/// Sidecars: a captioned render writes its caption pages as WebVTT and SubRip; ffprobe reads
/// both back with one cue per page, on the page's frames, and ffmpeg's subtitle decoder gives
/// back each page's words in order.
#[test]
fn sidecars_hold_one_cue_per_caption_page() {
    use samvideo_core::media::local::LocalSource;
    use samvideo_core::render::{plan_request, RenderOptions};
    use std::sync::Arc;

    let dir = setup();
    let spec = spec("one two three four five six", 0.0, 3.0, 3.5, Some("highlight"), json!({"max_words": 2}));
    let (vtt, srt) = (dir.path().join("out.vtt"), dir.path().join("out.srt"));
    let options = RenderOptions {
        format: Format::Y4m,
        subtitles_vtt: Some(vtt.clone()),
        subtitles_srt: Some(srt.clone()),
        ..RenderOptions::default()
    };
    render_with(dir.path(), Endpoint::MixVideo, &spec, &dir.path().join("out.y4m"), &options);
    let request =
        samvideo_core::validate::parse_create(Endpoint::MixVideo, spec.to_string().as_bytes()).expect("valid");
    let plan = plan_request(&request, Arc::new(LocalSource::new(dir.path())), &options).expect("plan");
    assert_eq!(plan.captions.len(), 3, "pages of two words");
    let fps = f64::from(FPS);
    for file in [&vtt, &srt] {
        let packets = ffprobe_csv(file, "s:0", "packet=pts_time,duration_time");
        let cues: Vec<(f64, f64)> = packets
            .lines()
            .map(|l| {
                let (a, b) = l.split_once(',').expect("pts,duration");
                (a.parse().expect("pts"), b.parse().expect("duration"))
            })
            .collect();
        let pages: Vec<(f64, f64)> =
            plan.captions.iter().map(|p| (p.start as f64 / fps, (p.end - p.start) as f64 / fps)).collect();
        eprintln!("{}: cues {cues:?}, pages {pages:?}", file.display());
        assert_eq!(cues.len(), pages.len(), "{}", file.display());
        for (c, p) in cues.iter().zip(&pages) {
            assert!((c.0 - p.0).abs() < 0.0015 && (c.1 - p.1).abs() < 0.0015, "cue {c:?} vs page {p:?}");
        }
    }
    let text = String::from_utf8(ffmpeg_file(dir.path(), "back.srt", &["-i", &s(&vtt), "-f", "srt"])).expect("UTF-8");
    let mut at = 0;
    for page in &plan.captions {
        let words = page.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        at += text[at..].find(&words).unwrap_or_else(|| panic!("{words:?} after byte {at} in {text}"));
    }
}

/// Right-to-left captions: with `highlight`, the spoken word of an Arabic page moves from the
/// right to the left (the first word is the rightmost, each shaped with its joined forms by the
/// bundled DejaVu Sans Bold); in an English line with a Hebrew phrase the English words read
/// left to right, then the Hebrew phrase from its right end.
#[test]
fn right_to_left_captions_read_from_the_right() {
    let dir = setup();
    let centroids = |name: &str, words: &str, n: usize| -> Vec<f64> {
        let secs = n as f64;
        let frames =
            frames_of(dir.path(), name, &spec(words, 0.0, secs, secs, Some("highlight"), json!({"max_words": 6})));
        // The middle frame of each word's share (words of equal length: one second each).
        (0..n).map(|k| find(&frames[k * 15 + 7], is_yellow).3).collect()
    };
    let arabic = centroids("ar.y4m", "قلم باب بيت", 3);
    eprintln!("arabic highlight centroids x: {arabic:?}");
    assert!(arabic.windows(2).all(|w| w[0] > w[1] + 20.0), "right to left: {arabic:?}");
    let mixed = centroids("mixed.y4m", "abc def אבג דהו", 4);
    eprintln!("mixed highlight centroids x: {mixed:?}");
    assert!(mixed[0] + 20.0 < mixed[1] && mixed[1] + 20.0 < mixed[3] && mixed[3] + 20.0 < mixed[2], "{mixed:?}");
}

/// The saturated red of Noto Color Emoji's apple (🍎): no text, outline, box or backdrop
/// colour of these specs is near it.
fn is_red(p: [u8; 3]) -> bool {
    p[0] > 170 && p[1] < 90 && p[2] < 90
}

/// Whether every pixel of `f` matching `pred` lies in the 9:16 caption area.
fn inside_safe_area(f: &Frame, pred: impl Fn([u8; 3]) -> bool) -> bool {
    let (_, xs, ys, _) = find(f, pred);
    let (w, h) = (f64::from(f.0), f64::from(f.1));
    f64::from(xs.0) >= 0.06 * w
        && f64::from(xs.1) <= 0.86 * w
        && f64::from(ys.0) >= 0.12 * h
        && f64::from(ys.1) <= 0.80 * h
}

/// An emoji renders in colour (the bundled Noto Color Emoji behind the family): the apple's
/// red inside the caption area on every frame of the page, the same while the apple is the
/// highlighted word (not painted in the highlight colour), with another text colour, and in
/// the display family; none without the emoji.
#[test]
fn emoji_render_in_colour() {
    let dir = setup();
    // "red" 0..1 s, "🍎" 1..1.33 s (frames 15..20), "apple" 1.33..3 s: shared by characters.
    let frames = frames_of(dir.path(), "emoji.y4m", &spec("red 🍎 apple", 0.0, 3.0, 3.0, Some("highlight"), json!({})));
    let reds: Vec<u32> = frames.iter().map(|f| find(f, is_red).0).collect();
    eprintln!("emoji: red px on frames 5 / 17 (apple spoken) / 35: {} / {} / {}", reds[5], reds[17], reds[35]);
    for (n, f) in frames.iter().enumerate() {
        assert!(reds[n] > 150, "frame {n}: the apple is red ({} px)", reds[n]);
        assert!(inside_safe_area(f, is_red), "frame {n}: the emoji stays in the caption area");
    }
    assert!(reds[17].abs_diff(reds[5]) * 10 < reds[5], "the spoken apple keeps its colours: {reds:?}");
    assert_eq!(find(&frames[17], is_yellow).0, 0, "no highlight yellow on the apple");
    for (name, styling) in
        [("green.y4m", json!({"text_color": "#00FF00"})), ("bebas.y4m", json!({"font_family": "Bebas Neue"}))]
    {
        let f = &frames_of(dir.path(), name, &spec("red 🍎 apple", 0.0, 1.0, 1.0, None, styling.clone()))[7];
        assert!(find(f, is_red).0 > 150, "{styling}: the apple is red");
    }
    let plain = frames_of(dir.path(), "plain.y4m", &spec("red apple", 0.0, 1.0, 1.0, Some("highlight"), json!({})));
    assert_eq!(find(&plain[7], is_red).0, 0, "without the emoji nothing is red");
}

/// Ink of `pred` in `f`, cropped to its bounding box: (width, height, rows of booleans).
fn crop(f: &Frame, pred: impl Fn([u8; 3]) -> bool) -> (u32, u32, Vec<bool>) {
    let (_, xs, ys, _) = find(f, &pred);
    if xs.0 > xs.1 {
        return (0, 0, Vec::new());
    }
    let (w, h) = (xs.1 - xs.0 + 1, ys.1 - ys.0 + 1);
    let bits = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| pred(px(f, xs.0 + x, ys.0 + y))).collect();
    (w, h, bits)
}

/// How alike two crops are: intersection over union of their ink, overlaid at the top left
/// (0 when their sizes differ by more than 2 px).
fn likeness(a: &(u32, u32, Vec<bool>), b: &(u32, u32, Vec<bool>)) -> f64 {
    if a.0.abs_diff(b.0) > 2 || a.1.abs_diff(b.1) > 2 {
        return 0.0;
    }
    let (w, h) = (a.0.min(b.0), a.1.min(b.1));
    let (mut both, mut either) = (0u32, 0u32);
    for y in 0..h {
        for x in 0..w {
            let (p, q) = (a.2[(y * a.0 + x) as usize], b.2[(y * b.0 + x) as usize]);
            both += u32::from(p && q);
            either += u32::from(p || q);
        }
    }
    if either == 0 {
        0.0
    } else {
        f64::from(both) / f64::from(either)
    }
}

/// CJK captions draw their own glyphs (the bundled Droid Sans Fallback behind the family), not
/// missing-glyph boxes: with `one-word`, each character's ink is unlike the box drawn for
/// characters no bundled font has (two private-use characters, whose boxes match each other:
/// the comparison does see a box) and unlike the other characters.
#[test]
fn cjk_captions_have_no_missing_glyph_boxes() {
    let dir = setup();
    // Six one-character words over 6 s: one per second (15 frames each).
    let words = "字 幕 한 を \u{E000} \u{E001}";
    let frames = frames_of(dir.path(), "cjk.y4m", &spec(words, 0.0, 6.0, 6.0, Some("one-word"), json!({})));
    let white = |p: [u8; 3]| p[0] > 200 && p[1] > 200 && p[2] > 200;
    let glyphs: Vec<_> = (0..6).map(|k| crop(&frames[k * 15 + 7], white)).collect();
    let sizes: Vec<(u32, u32)> = glyphs.iter().map(|g| (g.0, g.1)).collect();
    eprintln!("cjk: ink boxes {sizes:?} (the last two: missing-glyph boxes)");
    let tofu = likeness(&glyphs[4], &glyphs[5]);
    assert!(tofu > 0.9, "two missing glyphs draw the same box: {tofu:.2}");
    for (k, g) in glyphs[..4].iter().enumerate() {
        assert!(g.0 > 10 && g.1 > 10, "character {k} is drawn: {sizes:?}");
        let like = likeness(g, &glyphs[4]);
        assert!(like < 0.5, "character {k} is not the missing-glyph box ({like:.2})");
        for (j, other) in glyphs[..k].iter().enumerate() {
            assert!(likeness(g, other) < 0.8, "characters {j} and {k} differ");
        }
    }
}

/// `font_family: "Bebas Neue"` draws the display face: condensed capitals, narrower than
/// DejaVu Sans Bold's at the same size, other pixels.
#[test]
fn the_display_family_renders_its_own_face() {
    let dir = setup();
    let word = |family: Option<&str>, name: &str| {
        let mut styling = json!({"stroke_width": 0});
        if let Some(family) = family {
            styling["font_family"] = json!(family);
        }
        let frames = frames_of(dir.path(), name, &spec("CAPTIONS", 0.0, 1.0, 1.0, Some("highlight"), styling));
        crop(&frames[7], is_yellow)
    };
    let bebas = word(Some("Bebas Neue"), "bebas.y4m");
    let dejavu = word(Some("DejaVu Sans"), "dejavu.y4m");
    let default = word(None, "default.y4m");
    eprintln!(
        "display family: CAPTIONS {}x{} px in Bebas Neue, {}x{} in DejaVu Sans",
        bebas.0, bebas.1, dejavu.0, dejavu.1
    );
    assert_eq!(dejavu, default, "DejaVu Sans is the default family");
    assert!(f64::from(bebas.0) < 0.8 * f64::from(dejavu.0), "condensed: {} vs {} px", bebas.0, dejavu.0);
    assert!(bebas.1 > 10, "drawn");
}

/// The longest run of `pred` pixels along one row of `f`.
fn longest_row_run(f: &Frame, y: u32, pred: impl Fn([u8; 3]) -> bool) -> u32 {
    let (mut best, mut run) = (0, 0);
    for x in 0..f.0 {
        run = if pred(px(f, x, y)) { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Arabic is drawn with its joined forms, right to left: in "بيت" (beh, yeh, teh) one
/// connecting stroke runs along the baseline across the word, where the same letters kept
/// apart by zero-width non-joiners (their isolated forms) leave gaps; and the dots under the
/// first two letters (beh one, yeh two; teh's are above) lie right of the word's middle, so
/// the first letter is drawn rightmost.
#[test]
fn arabic_captions_join_their_letters() {
    let dir = setup();
    let word = |text: &str, name: &str| {
        let styling = json!({"stroke_width": 0, "font_size": 140});
        frames_of(dir.path(), name, &spec(text, 0.0, 1.0, 1.0, Some("highlight"), styling)).swap_remove(7)
    };
    let joined = word("بيت", "joined.y4m");
    let apart = word("ب\u{200C}ي\u{200C}ت", "apart.y4m");
    let stroke = |f: &Frame| {
        let (_, xs, ys, _) = find(f, is_yellow);
        let (y, run) =
            (ys.0..=ys.1).map(|y| (y, longest_row_run(f, y, is_yellow))).max_by_key(|r| r.1).unwrap_or((0, 0));
        (xs.1 - xs.0 + 1, y, run)
    };
    let (jw, baseline, jrun) = stroke(&joined);
    let (aw, _, arun) = stroke(&apart);
    eprintln!("arabic: joined {jw} px wide, longest stroke {jrun} px; apart {aw} px wide, longest {arun} px");
    assert!(f64::from(jrun) > 0.8 * f64::from(jw), "one stroke joins the letters: {jrun} of {jw} px");
    assert!(f64::from(arun) < 0.6 * f64::from(aw), "isolated forms leave gaps: {arun} of {aw} px");
    // Dots below the baseline stroke (a few px under it, past its thickness).
    let (_, xs, ys, _) = find(&joined, is_yellow);
    let below = |x: u32, y: u32| y > baseline + 4 && is_yellow(px(&joined, x, y));
    let dots: Vec<u32> = (baseline..=ys.1).flat_map(|y| (xs.0..=xs.1).filter(move |&x| below(x, y))).collect();
    let middle = f64::from(xs.0 + xs.1) / 2.0;
    let mean = dots.iter().map(|&x| f64::from(x)).sum::<f64>() / dots.len().max(1) as f64;
    eprintln!("arabic: {} dot px below the baseline, mean x {mean:.0}, word middle {middle:.0}", dots.len());
    assert!(dots.len() > 20 && mean > middle + 5.0, "beh and yeh (first, second) are on the right");
}

/// Child half of [`a_long_captioned_video_peaks_like_the_same_video_without_captions`] (does
/// nothing when run on its own): renders the 3-minute slideshow of `SAMVIDEO_CAPTIONS_SPEC`
/// to raw frames drained through a FIFO (1.7 GB of Y4M never touches the disk), one
/// segment worker, and prints the frames, the caption pages and the peak RSS.
#[test]
#[ignore = "run by the caption memory test in a child process"]
fn long_captions_memory_child() {
    use samvideo_core::render::RenderOptions;
    use std::io::Read;
    if !is_child() {
        return;
    }
    let spec: Value = serde_json::from_str(&std::env::var("SAMVIDEO_CAPTIONS_SPEC").expect("spec")).expect("JSON");
    let dir = std::path::PathBuf::from(std::env::var("SAMVIDEO_CAPTIONS_DIR").expect("dir"));
    let fifo = dir.join(format!("frames-{}.y4m", std::process::id()));
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::File::open(fifo).expect("open the FIFO");
            let (mut buf, mut total) = (vec![0u8; 1 << 16], 0u64);
            while let Ok(n) = file.read(&mut buf) {
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total
        })
    };
    let vtt = dir.join(format!("pages-{}.vtt", std::process::id()));
    let options =
        RenderOptions { format: Format::Y4m, threads: 1, subtitles_vtt: Some(vtt.clone()), ..RenderOptions::default() };
    let s = render_with(&dir, Endpoint::MixVideo, &spec, &fifo, &options);
    let drained = reader.join().expect("the reader");
    let pages = std::fs::read_to_string(&vtt).map_or(0, |v| v.matches(" --> ").count());
    let _ = (std::fs::remove_file(&fifo), std::fs::remove_file(&vtt));
    assert!(drained > s.frames * 480 * 854, "the frames went through the FIFO: {drained} bytes");
    report(&[("frames", s.frames), ("pages", pages as u64), ("hwm_kb", peak_rss_kb())]);
}

/// Long captioned videos stay cheap (issue 17): a 3-minute 9:16 slideshow with 150
/// `highlight` pages (450 spoken words) peaks like the same slideshow with 15 pages, and within
/// the frames in flight plus the text engine of the slideshow without captions. Pages are rasterized when they first show and dropped after; before, every page
/// was rasterized when the worker started, so memory grew by a page's layers per page.
///
/// Why not "within 10 % of no captions": a slideshow without captions is almost all repeats,
/// which cross the writer's channel as "same as before", while the spoken word makes frames
/// differ, and up to six distinct frames are in flight (four queued, one drawn, one written),
/// as in any video that moves; the text engine (four bundled faces) costs about 4 MB once. Both
/// are fixed, whatever the number of pages: measured here 43 MB without captions, 46 to 49 MB
/// with 15 pages and 42 to 48 MB with 150 (three runs); at 720x1280, 76, 80 (1 page) and 94 MB. The frames are raw (Y4M), so the
/// encoder's working set stays out of the comparison (docs/captions.md has the AV1 numbers);
/// static-frame reuse between words is checked by
/// `compose::tests::a_long_captioned_slideshow_keeps_static_frame_reuse_between_words`.
#[test]
fn a_long_captioned_video_peaks_like_the_same_video_without_captions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let colours = [[200, 40, 40, 255], [40, 160, 60, 255], [40, 60, 200, 255], [220, 180, 40, 255]];
    let media: Vec<Value> = colours
        .iter()
        .enumerate()
        .map(|(i, c)| {
            solid_png(dir.path(), &format!("s{i}.png"), 480, 854, *c);
            json!({"type": "image", "url": format!("s{i}.png"), "duration": 45})
        })
        .collect();
    // A page per entry: three words, then a pause of 0.6 s or more (pages never span one
    // over 0.5 s), `every` seconds apart.
    let transcripts = |pages: usize, every: f64| -> Value {
        (0..pages)
            .map(|i| json!({"words": format!("page {i} words"), "start": i as f64 * every, "end": i as f64 * every + 0.6}))
            .collect()
    };
    let settings = json!({"aspect_ratio": "9:16", "output_quality": "low", "fps": FPS, "caption_style": "highlight"});
    let plain = json!({"media_list": media, "settings": settings});
    let (mut few, mut many) = (plain.clone(), plain.clone());
    few["transcripts"] = transcripts(15, 12.0);
    many["transcripts"] = transcripts(150, 1.2);
    let run = |spec: &Value| {
        let dir = dir.path().to_str().expect("UTF-8 path");
        let spec = spec.to_string();
        let run = run_child(
            &test_name!(long_captions_memory_child),
            // mimalloc returns freed pages at once: the peak then counts what the renderer
            // holds, not what the allocator keeps for later (±5 MB from run to run otherwise).
            &[("SAMVIDEO_CAPTIONS_SPEC", spec.as_str()), ("SAMVIDEO_CAPTIONS_DIR", dir), ("MIMALLOC_PURGE_DELAY", "0")],
        );
        (run.field("frames"), run.field("pages"), run.field("hwm_kb"))
    };
    let (frames_plain, pages_plain, kb_plain) = run(&plain);
    let (frames_few, pages_few, kb_few) = run(&few);
    let (frames, pages, kb) = run(&many);
    eprintln!(
        "3 min 9:16 slideshow, raw frames: {} MB without captions, {} MB with 15 pages, {} MB with 150",
        kb_plain / 1024,
        kb_few / 1024,
        kb / 1024
    );
    assert_eq!((frames_plain, frames_few, frames), (2700, 2700, 2700));
    assert_eq!((pages_plain, pages_few, pages), (0, 15, 150), "a page per transcript entry");
    // Up to six distinct frames are in flight (four queued for the writer, one drawn, one
    // written) in any video that moves; how many at the peak depends on timing (±6 MB here).
    let in_flight_kb = 6 * 480 * 854 * 4 / 1024;
    let text_engine_kb = 8 * 1024;
    assert!(kb <= kb_few + in_flight_kb, "ten times the pages raised the peak from {kb_few} kB to {kb} kB");
    assert!(
        kb <= kb_plain + in_flight_kb + text_engine_kb,
        "captions cost more than six frames in flight and the text engine: {kb_plain} kB to {kb} kB"
    );
}
