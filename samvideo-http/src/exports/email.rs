//! `email` destinations: a plain-text mail carrying the output link, through the SMTP relay
//! the operator configured (`--smtp-url`). Blocking (lettre's `SmtpTransport`): run on a
//! blocking thread.
//!
//! Enter: [`SmtpConfig`] (from `--smtp-url smtp://host:port` or `smtps://host:port`,
//! `--smtp-starttls off|opportunistic|required`, `--smtp-username`, `--smtp-password`,
//! `--smtp-from`), the recipients and a [`Mail`]. Leave: `Ok` once the relay accepted the
//! message, or an [`AttemptError`]: a 5xx reply or a malformed address is permanent, anything
//! else (4xx, connection, TLS) is retried.
//!
//! The relay is trusted operator configuration, so the address policy does not apply to it;
//! TLS certificates are checked against the Mozilla roots (webpki-roots) and the URL's host.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::{AttemptError, ExportsConfigError};

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text only (a trusted local relay).
    Off,
    /// STARTTLS when the relay offers it, plain text otherwise (`smtp://` default).
    Opportunistic,
    /// STARTTLS or fail.
    Required,
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit,
}

impl std::str::FromStr for SmtpTls {
    type Err = ExportsConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "false" | "no" => Ok(SmtpTls::Off),
            "opportunistic" | "auto" => Ok(SmtpTls::Opportunistic),
            "required" | "true" | "yes" | "on" => Ok(SmtpTls::Required),
            other => Err(ExportsConfigError::Smtp(format!(
                "--smtp-starttls {other:?} (expected off, opportunistic or required)"
            ))),
        }
    }
}

/// The mail relay.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Relay host.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login, if the relay wants one.
    pub username: Option<String>,
    /// Password (never shown).
    pub password: Option<String>,
    /// `From:` mailbox.
    pub from: String,
    /// Connect and command timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// `%XX` decoding of URL user info.
fn percent_decode(s: &str) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpConfig {
    /// Build from `--smtp-url` and the related options. `starttls` applies to `smtp://`
    /// (default `opportunistic`); `smtps://` is implicit TLS. Credentials in the URL's user
    /// info are used unless `username` / `password` are given.
    pub fn from_url(
        url: &str,
        starttls: Option<SmtpTls>,
        username: Option<String>,
        password: Option<String>,
        from: Option<String>,
    ) -> Result<SmtpConfig, ExportsConfigError> {
        let bad = |why: &str| {
            ExportsConfigError::Smtp(format!("--smtp-url: {why} (expected smtp://host:port or smtps://host:port)"))
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let (tls, default_port) = match parsed.scheme() {
            "smtp" => (starttls.unwrap_or(SmtpTls::Opportunistic), 25),
            "smtps" => {
                if starttls.is_some_and(|t| t != SmtpTls::Implicit) {
                    return Err(ExportsConfigError::Smtp(
                        "--smtp-starttls does not apply to smtps:// (TLS from the start)".into(),
                    ));
                }
                (SmtpTls::Implicit, 465)
            }
            other => return Err(bad(&format!("unsupported scheme {other:?}"))),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let url_user = Some(percent_decode(parsed.username())).filter(|u| !u.is_empty());
        let url_pass = parsed.password().map(percent_decode);
        let username = username.filter(|u| !u.is_empty()).or(url_user);
        let password = password.or(url_pass);
        if password.is_some() && username.is_none() {
            return Err(ExportsConfigError::Smtp("an SMTP password needs a username (--smtp-username)".into()));
        }
        let from = from.unwrap_or_else(|| "samvideo <samvideo@localhost>".into());
        from.parse::<Mailbox>()
            .map_err(|e| ExportsConfigError::Smtp(format!("--smtp-from {from:?} is not a mailbox: {e}")))?;
        Ok(SmtpConfig {
            host,
            port: parsed.port().unwrap_or(default_port),
            tls,
            username,
            password,
            from,
            timeout: Duration::from_secs(30),
        })
    }

    fn transport(&self) -> Result<SmtpTransport, AttemptError> {
        let params = || {
            TlsParameters::new(self.host.clone()).map_err(|e| AttemptError::permanent(format!("SMTP TLS setup: {e}")))
        };
        let tls = match self.tls {
            SmtpTls::Off => Tls::None,
            SmtpTls::Opportunistic => Tls::Opportunistic(params()?),
            SmtpTls::Required => Tls::Required(params()?),
            SmtpTls::Implicit => Tls::Wrapper(params()?),
        };
        let mut b =
            SmtpTransport::builder_dangerous(self.host.clone()).port(self.port).tls(tls).timeout(Some(self.timeout));
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(b.build())
    }
}

/// What the mail says.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    /// Task id.
    pub task_id: &'a str,
    /// Absolute link to the video.
    pub link: &'a str,
    /// Seconds of video.
    pub duration: f64,
    /// File size.
    pub size_bytes: i64,
}

/// Subject and body of the mail (plain text).
pub fn compose(mail: &Mail<'_>) -> (String, String) {
    let subject = "Your video is ready".to_string();
    let mb = mail.size_bytes as f64 / (1024.0 * 1024.0);
    let body = format!(
        "Your video is ready.\r\n\r\n{link}\r\n\r\nTask: {id}\r\nDuration: {d:.1} s\r\nSize: {mb:.2} MB\r\n\r\nSent by samvideo.\r\n",
        link = mail.link,
        id = mail.task_id,
        d = mail.duration,
    );
    (subject, body)
}

/// Send one mail to all `to` through the relay.
pub fn send(smtp: &SmtpConfig, to: &[String], mail: &Mail<'_>) -> Result<(), AttemptError> {
    let from: Mailbox =
        smtp.from.parse().map_err(|e| AttemptError::permanent(format!("--smtp-from is not a mailbox: {e}")))?;
    let (subject, body) = compose(mail);
    let mut builder = Message::builder().from(from).subject(subject).header(ContentType::TEXT_PLAIN);
    for addr in to {
        let mbox: Mailbox =
            addr.parse().map_err(|e| AttemptError::permanent(format!("recipient {addr:?} is not an address: {e}")))?;
        builder = builder.to(mbox);
    }
    // 7bit keeps the link on one line for every reader (lettre would pick quoted-printable for
    // lines over 76 characters and fold it). RFC 5322 allows 998; the body is CRLF already.
    let seven_bit = body.is_ascii() && body.split("\r\n").all(|l| l.len() <= 998 && !l.contains(['\r', '\n', '\0']));
    let body = if seven_bit {
        Body::dangerous_pre_encoded(body.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(body)
    };
    let message = builder.body(body).map_err(|e| AttemptError::permanent(format!("cannot build the mail: {e}")))?;
    let transport = smtp.transport()?;
    match transport.send(&message) {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(AttemptError::permanent(format!("the SMTP relay refused the mail: {e}"))),
        Err(e) => Err(AttemptError::transient(format!("SMTP: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let c = SmtpConfig::from_url("smtp://relay.example:2525", None, None, None, None).expect("plain");
        assert_eq!((c.host.as_str(), c.port, c.tls), ("relay.example", 2525, SmtpTls::Opportunistic));
        let c = SmtpConfig::from_url("smtps://u%40x:p%2Fw@mail.example", None, None, None, Some("V <v@x.y>".into()))
            .expect("tls");
        assert_eq!((c.port, c.tls), (465, SmtpTls::Implicit));
        assert_eq!(c.username.as_deref(), Some("u@x"));
        assert_eq!(c.password.as_deref(), Some("p/w"));
        assert!(!format!("{c:?}").contains("p/w"), "Debug hides the password");
        let c = SmtpConfig::from_url("smtp://h", Some(SmtpTls::Required), Some("me".into()), Some("pw".into()), None)
            .expect("flags");
        assert_eq!((c.port, c.tls, c.username.as_deref()), (25, SmtpTls::Required, Some("me")));
        for bad in ["http://h", "smtp://", "nonsense"] {
            assert!(SmtpConfig::from_url(bad, None, None, None, None).is_err(), "{bad}");
        }
        assert!(SmtpConfig::from_url("smtp://h", None, None, None, Some("not a mailbox".into())).is_err());
        assert!("sometimes".parse::<SmtpTls>().is_err());
    }

    #[test]
    fn mail_carries_the_link() {
        let (_, body) = compose(&Mail {
            task_id: "t1",
            link: "https://v.example/media/outputs/t1.mp4",
            duration: 3.0,
            size_bytes: 1 << 20,
        });
        assert!(body.contains("https://v.example/media/outputs/t1.mp4"));
        assert!(body.contains("Size: 1.00 MB"));
        // No trailing spaces: they would force quoted-printable, which folds the link.
        assert!(body.lines().all(|l| !l.ends_with(' ')), "{body}");
    }
}
