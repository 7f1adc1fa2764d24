//! Builds the bridge to the SVT-AV1 encoder (`csrc/svt_av1.c`) against the installed
//! `libSvtAv1Enc` (Debian: `libsvtav1enc-dev`), when the `render` feature is on. SVT-AV1 encodes
//! videos whose picture moves (`src/encode/svt_av1.rs`).

fn main() {
    println!("cargo:rerun-if-changed=csrc/svt_av1.c");
    if std::env::var_os("CARGO_FEATURE_RENDER").is_none() {
        return;
    }
    let lib = match pkg_config::Config::new().atleast_version("1.0").probe("SvtAv1Enc") {
        Ok(lib) => lib,
        Err(e) => panic!(
            "samvideo needs the SVT-AV1 encoder library (Debian/Ubuntu: apt-get install libsvtav1enc-dev; \
             `.ci/setup` installs it): {e}"
        ),
    };
    let mut build = cc::Build::new();
    build.file("csrc/svt_av1.c").warnings(true).extra_warnings(true);
    for dir in &lib.include_paths {
        build.include(dir);
    }
    for (name, value) in &lib.defines {
        build.define(name, value.as_deref());
    }
    build.compile("samvideo_svt_av1");
}
