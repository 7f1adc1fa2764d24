//! Fetching media over HTTP(S) without becoming a door into the local network.
//!
//! [`HttpSource`] implements [`MediaSource`] for `http://` and `https://` URLs. A URL enters
//! [`MediaSource::fetch`]; the whole body leaves as bytes, or a [`MediaError`] saying why not.
//!
//! How the address actually connected to is checked:
//! - Host names are resolved by [`CheckedResolver`], a `reqwest::dns::Resolve` that looks the
//!   name up once, runs every address through [`NetPolicy`] and hands exactly those checked
//!   addresses to the connector. There is no second lookup, so DNS rebinding between check
//!   and connect is impossible. A name with any refused address is refused as a whole.
//! - IP-literal hosts never reach a resolver (hyper-util's connector parses them itself), so
//!   [`NetPolicy::check_url`] checks them before the request; the URL parser has already
//!   normalised odd spellings (`2130706433`, `0177.0.0.1`, `0x7f.1`) to the address meant.
//! - Proxies from the environment are ignored (a proxy would make the resolver see the
//!   proxy's name, not the target's).
//! - Redirects are followed by hand, at most `max_redirects` of them, and each hop goes
//!   through the same scheme, host-list and address checks.
//! - The body is refused early on `Content-Length` and streamed with a running byte limit;
//!   one deadline (`fetch_timeout`) covers every hop and the body; `connect_timeout` bounds
//!   each connection attempt. No content decoding is enabled, so no decompression bombs.
//!
//! The client is reqwest's blocking one: call [`MediaSource::fetch`] from worker threads or
//! `tokio::task::spawn_blocking`, never from async code (reqwest panics there in debug builds).

use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};

use super::limits::{timeout_secs, Limits};
use super::net_policy::NetPolicy;
use super::{MediaError, MediaSource};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Fetches http(s) media under a [`NetPolicy`] and [`Limits`]. Cheap to share: one
/// connection pool and one background I/O thread serve every caller.
pub struct HttpSource {
    /// reqwest's blocking client, built once with the checking resolver.
    client: reqwest::blocking::Client,
    /// Scheme, host-list and address rules, re-applied to every hop.
    policy: Arc<NetPolicy>,
    /// Byte, time and redirect bounds.
    limits: Limits,
}

impl HttpSource {
    /// A source that fetches under `policy` and `limits`. Fails if `limits` do not validate
    /// or the TLS backend or the client's I/O thread cannot start. Do not call from async code.
    pub fn new(policy: NetPolicy, limits: Limits) -> Result<Self, MediaError> {
        limits.validate().map_err(|e| MediaError::Limit(e.to_string()))?;
        let policy = Arc::new(policy);
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy: Arc::clone(&policy) }))
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.fetch_timeout)
            .user_agent(concat!("samvideo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MediaError::Network(format!("cannot start the HTTP client: {e}")))?;
        Ok(HttpSource { client, policy, limits })
    }

    /// The policy in force.
    pub fn policy(&self) -> &NetPolicy {
        &self.policy
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Everything about `url` that can be refused without any network traffic: it parses,
    /// its scheme is http(s), its host passes the host lists, and an IP-literal host passes
    /// the address policy. [`MediaSource::fetch`] runs this first; the HTTP API can run it at
    /// submit time to answer 400 instead of failing the task later. Names are checked
    /// again, after resolution, when fetched.
    pub fn preflight(&self, url: &str) -> Result<Url, MediaError> {
        let url = Url::parse(url).map_err(|e| MediaError::InvalidUrl(e.to_string()))?;
        self.policy.check_url(&url)?;
        Ok(url)
    }

    /// Turn a reqwest error into the error a user should read.
    fn classify_error(&self, err: &reqwest::Error) -> MediaError {
        if let Some(refused) = find_source::<Refused>(err) {
            return refused.0.clone();
        }
        if err.is_timeout() {
            let limit = if err.is_connect() { self.limits.connect_timeout } else { self.limits.fetch_timeout };
            return MediaError::Timeout(timeout_secs(limit));
        }
        MediaError::Network(describe(err))
    }

    /// Map an I/O error from reading the body: reqwest smuggles its own error inside.
    fn classify_io(&self, err: &std::io::Error) -> MediaError {
        match err.get_ref().and_then(|e| e.downcast_ref::<reqwest::Error>()) {
            Some(inner) => self.classify_error(inner),
            None if err.kind() == std::io::ErrorKind::TimedOut => {
                MediaError::Timeout(timeout_secs(self.limits.fetch_timeout))
            }
            None => MediaError::Network(format!("reading the body failed: {err}")),
        }
    }

    /// Read the body of a 2xx response, at most `max` bytes.
    fn read_body(&self, response: reqwest::blocking::Response, max: u64) -> Result<Vec<u8>, MediaError> {
        let declared = response.content_length();
        if declared.is_some_and(|len| len > max) {
            return Err(MediaError::TooLarge(max));
        }
        let mut body = Vec::new();
        if let Some(len) = declared {
            // Bounded by the check above.
            body.reserve_exact(usize::try_from(len).unwrap_or(0));
        }
        response.take(max.saturating_add(1)).read_to_end(&mut body).map_err(|e| self.classify_io(&e))?;
        if body.len() as u64 > max {
            return Err(MediaError::TooLarge(max));
        }
        Ok(body)
    }
}

impl MediaSource for HttpSource {
    fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, MediaError> {
        self.fetch_at_most(url, self.limits.max_item_bytes)
    }

    /// The fetch, with the body refused early past `max_bytes` (never more than `max_item_bytes`).
    fn fetch_at_most(&self, url: &str, max_bytes: u64) -> Result<Arc<Vec<u8>>, MediaError> {
        let max_bytes = max_bytes.min(self.limits.max_item_bytes);
        let deadline = Instant::now() + self.limits.fetch_timeout;
        let mut current = self.preflight(url)?;
        let mut redirects = 0u32;
        loop {
            // Every hop, the first included (cheap, and keeps the loop obviously right).
            self.policy.check_url(&current)?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(MediaError::Timeout(timeout_secs(self.limits.fetch_timeout)));
            }
            let response =
                self.client.get(current.clone()).timeout(remaining).send().map_err(|e| self.classify_error(&e))?;
            let status = response.status();
            if is_followed_redirect(status) {
                let Some(location) = response.headers().get(LOCATION) else {
                    return Err(MediaError::HttpStatus(status.as_u16()));
                };
                redirects += 1;
                if redirects > self.limits.max_redirects {
                    return Err(MediaError::TooManyRedirects(self.limits.max_redirects));
                }
                let location = location
                    .to_str()
                    .map_err(|_| MediaError::InvalidUrl("redirect Location is not valid text".into()))?;
                let next = current
                    .join(location)
                    .map_err(|e| MediaError::InvalidUrl(format!("redirect to {location:?}: {e}")))?;
                tracing::debug!(from = %current, to = %next, "following media redirect");
                current = next;
                continue;
            }
            if !status.is_success() {
                return Err(MediaError::HttpStatus(status.as_u16()));
            }
            return self.read_body(response, max_bytes).map(Arc::new);
        }
    }
}

/// 301, 302, 303, 307 and 308 are followed; 300 and 304 are answered as statuses.
fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// A refusal raised inside the resolver, carried through reqwest's error chain.
#[derive(Debug)]
struct Refused(MediaError);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

/// A resolver that refuses names resolving to addresses the policy refuses, and returns
/// the very addresses it checked (the connector connects to nothing else).
pub struct CheckedResolver {
    policy: Arc<NetPolicy>,
}

impl CheckedResolver {
    /// A resolver checking addresses against `policy`.
    pub fn new(policy: Arc<NetPolicy>) -> Self {
        CheckedResolver { policy }
    }
}

/// Resolve `host` and check every address; all must pass.
fn resolve_checked(policy: &NetPolicy, host: &str) -> Result<Vec<SocketAddr>, BoxError> {
    let addrs: Vec<SocketAddr> = (host, 0u16).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no addresses").into());
    }
    for addr in &addrs {
        let ip: IpAddr = addr.ip();
        policy.check_ip(host, ip).map_err(|e| Box::new(Refused(e)) as BoxError)?;
    }
    Ok(addrs)
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_string();
        Box::pin(async move {
            // getaddrinfo blocks: keep it off the client's I/O thread.
            let addrs = tokio::task::spawn_blocking(move || resolve_checked(&policy, &host))
                .await
                .map_err(|e| Box::new(e) as BoxError)??;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The first error of type `T` in `err`'s source chain.
fn find_source<'a, T: std::error::Error + 'static>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// `cannot connect: Connection refused (os error 111)`: the innermost cause, without the
/// URL (the item label carries it).
fn describe(err: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let cause = innermost.to_string();
    if err.is_connect() {
        format!("cannot connect: {cause}")
    } else if err.is_body() || err.is_decode() {
        format!("reading the body failed: {cause}")
    } else if err.is_request() {
        format!("request failed: {cause}")
    } else {
        cause
    }
}
