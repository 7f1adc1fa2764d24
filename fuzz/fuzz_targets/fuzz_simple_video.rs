//! Arbitrary bytes as a simple-video create body: parse + envelope + validation + typed
//! decode must answer Ok or a 400 with a JSON body carrying a message, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samvideo_core::request::Endpoint;
use samvideo_core::validate::parse_create;

fuzz_target!(|data: &[u8]| {
    match parse_create(Endpoint::SimpleVideo, data) {
        Ok(request) => {
            // A validated request must serialize (the server stores and re-reads it).
            assert!(serde_json::to_vec(&request).is_ok());
        }
        Err(e) => {
            assert_eq!(e.status, 400);
            assert!(!e.message().is_empty());
            assert_eq!(e.body["success"], false);
        }
    }
});
