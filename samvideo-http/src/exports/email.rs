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

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::settings::{SmtpConfig, SmtpTls};
use super::AttemptError;

impl SmtpConfig {
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
