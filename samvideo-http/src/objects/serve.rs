//! Downloads of objects kept in a bucket, on the routes a folder serves with tower-http's
//! `ServeDir` (`/media/outputs/{file}`, `/media/previews/{file}`) and with the same headers:
//! `Content-Type` from the file's extension, `Accept-Ranges: bytes`, `Last-Modified`,
//! `Content-Length`; a single `Range: bytes=...` answers 206 with `Content-Range`, a range past
//! the end 416 with `Content-Range: bytes */SIZE`, a missing object 404. The bytes stream from
//! the bucket to the client; a bucket that fails answers 503.
//!
//! Enter: a GET with the file name and headers. Leave: the response. [`byte_range`] is the
//! Range rule, a plain function.

use std::ops::Range;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{ObjectsError, OUTPUTS, PREVIEWS};
use crate::reply::HttpError;
use crate::state::AppState;

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// No usable range: the whole object, 200.
    Full,
    /// These bytes, 206.
    Part(Range<u64>),
    /// Nothing of the object, 416.
    Unsatisfiable,
}

/// The Range rule: one `bytes=FIRST-[LAST]` or `bytes=-SUFFIX` range; a header that does not
/// parse, another unit or several ranges are ignored (the whole object, as RFC 9110 allows).
pub fn byte_range(header: Option<&str>, size: u64) -> Ranged {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ranged::Full };
    if spec.contains(',') {
        return Ranged::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Ranged::Full };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match last.parse::<u64>() {
            Ok(0) => Ranged::Unsatisfiable,
            Ok(_) if size == 0 => Ranged::Unsatisfiable,
            Ok(n) => Ranged::Part(size.saturating_sub(n)..size),
            Err(_) => Ranged::Full,
        };
    }
    let Ok(first) = first.parse::<u64>() else { return Ranged::Full };
    let last = match last {
        "" => size.saturating_sub(1),
        l => match l.parse::<u64>() {
            Ok(l) if l >= first => l.min(size.saturating_sub(1)),
            _ => return Ranged::Full,
        },
    };
    if first >= size {
        return Ranged::Unsatisfiable;
    }
    Ranged::Part(first..last + 1)
}

/// `GET /media/outputs/{file}` from a bucket.
pub async fn output(State(s): State<AppState>, UrlPath(file): UrlPath<String>, headers: HeaderMap) -> Response {
    download(&s, OUTPUTS, &file, &headers).await
}

/// `GET /media/previews/{file}` from a bucket.
pub async fn preview(State(s): State<AppState>, UrlPath(file): UrlPath<String>, headers: HeaderMap) -> Response {
    download(&s, PREVIEWS, &file, &headers).await
}

fn unavailable(e: &ObjectsError) -> Response {
    tracing::error!(error = %e, "download from object storage failed");
    HttpError::new(503, "Object storage is unavailable; try again later", Some("STORAGE_UNAVAILABLE")).into_response()
}

async fn download(s: &AppState, folder: &str, file: &str, headers: &HeaderMap) -> Response {
    let info = match s.objects.info(folder, file).await {
        Ok(Some(info)) => info,
        Ok(None) | Err(ObjectsError::BadName(_)) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return unavailable(&e),
    };
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, range) = match byte_range(asked, info.size) {
        Ranged::Full => (StatusCode::OK, 0..info.size),
        Ranged::Part(r) => (StatusCode::PARTIAL_CONTENT, r),
        Ranged::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", info.size)) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let body = if range.is_empty() {
        Body::empty()
    } else {
        match s.objects.stream(folder, file, range.clone()).await {
            Ok(stream) => Body::from_stream(stream),
            Err(e) => return unavailable(&e),
        }
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    let mime = mime_guess::from_path(file).first_raw().unwrap_or("application/octet-stream");
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
    let modified = info.modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = HeaderValue::from_str(&modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {}-{}/{}", range.start, range.end - 1, info.size);
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_servedir_answers_them() {
        assert_eq!(byte_range(None, 100), Ranged::Full);
        assert_eq!(byte_range(Some("bytes=10-19"), 100), Ranged::Part(10..20));
        assert_eq!(byte_range(Some("bytes=90-"), 100), Ranged::Part(90..100));
        assert_eq!(byte_range(Some("bytes=90-500"), 100), Ranged::Part(90..100));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ranged::Part(90..100));
        assert_eq!(byte_range(Some("bytes=-500"), 100), Ranged::Part(0..100));
        assert_eq!(byte_range(Some("bytes=100-"), 100), Ranged::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=-0"), 100), Ranged::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=0-"), 0), Ranged::Unsatisfiable);
        for ignored in ["items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=x-", "bytes"] {
            assert_eq!(byte_range(Some(ignored), 100), Ranged::Full, "{ignored}");
        }
    }
}
