//! Upload the output over SFTP (pure Rust: `russh` + `russh-sftp`), with a host-key policy.
//!
//! Enter: an [`SftpTarget`] from `exports.destinations[]`, the local file, the address policy
//! and a [`HostKeyPolicy`]. Leave: the remote path written, or an [`AttemptError`].
//!
//! Host keys (documented in `docs/exports.md`):
//! - with `--sftp-known-hosts FILE` (OpenSSH `known_hosts` format, `[host]:port` for other
//!   ports): strict; a server whose key is not listed, or differs from the listed one, is
//!   refused;
//! - without it: trust on first use. The first key seen for `host:port` is pinned in the
//!   database (`sftp_host_keys`); a later different key is refused (permanent failure) until
//!   an operator removes the pin. Host certificates are refused.
//!
//! Authentication: `password`, or `private_key` (OpenSSH, PKCS#8 or PKCS#1 PEM, unencrypted;
//! Ed25519, ECDSA or RSA with SHA-2 signatures). With both, the key is tried first.
//!
//! Path rules as for FTP (`super::split_remote_path`): a trailing `/`, or an existing remote
//! directory, means "put `<task id>.mp4` in it"; missing directories are created; the file is
//! written as `.<name>.part` then renamed over any existing file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use samvideo_core::media::net_policy::NetPolicy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{dir_prefixes, join_remote, resolve_checked, split_remote_path, AttemptError};
use crate::store::Store;

/// An SFTP destination.
#[derive(Clone)]
pub struct SftpTarget {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login.
    pub username: String,
    /// Password (never shown).
    pub password: Option<String>,
    /// PEM private key (never shown).
    pub private_key: Option<String>,
    /// Directory or file path.
    pub path: String,
}

impl std::fmt::Debug for SftpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("path", &self.path)
            .finish()
    }
}

/// How server keys are trusted: a known-hosts file, else pins in the store.
#[derive(Clone)]
pub struct HostKeyPolicy {
    store: Store,
    known_hosts: Option<PathBuf>,
}

impl HostKeyPolicy {
    /// Pins in `store`, or strict checking against `known_hosts` when given.
    pub fn new(store: Store, known_hosts: Option<PathBuf>) -> Self {
        HostKeyPolicy { store, known_hosts }
    }

    /// `Ok(())` to trust `key` for `host:port`, else why not.
    pub async fn check(&self, host: &str, port: u16, key: &russh::keys::PublicKey) -> Result<(), String> {
        let fingerprint = key.fingerprint(russh::keys::HashAlg::Sha256).to_string();
        if let Some(path) = &self.known_hosts {
            return match russh::keys::check_known_hosts_path(host, port, key, path) {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("host key {fingerprint} of {host}:{port} is not in the known-hosts file")),
                Err(russh::keys::Error::KeyChanged { line }) => Err(format!(
                    "host key {fingerprint} of {host}:{port} differs from the known-hosts file (line {line})"
                )),
                Err(e) => Err(format!("cannot check the known-hosts file: {e}")),
            };
        }
        let openssh = key.to_openssh().map_err(|e| format!("cannot encode the host key: {e}"))?;
        let pinned =
            self.store.pin_host_key(host, port, &openssh).await.map_err(|e| format!("cannot pin the host key: {e}"))?;
        if pinned == openssh {
            Ok(())
        } else {
            Err(format!(
                "host key of {host}:{port} changed since it was first pinned (now {fingerprint}); \
                 remove the pin or use --sftp-known-hosts if the change is expected"
            ))
        }
    }
}

struct Client {
    host: String,
    port: u16,
    policy: HostKeyPolicy,
    refusal: Arc<Mutex<Option<String>>>,
}

impl russh::client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let verdict = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.policy.check(&self.host, self.port, key).await,
            PublicKeyOrCertificate::Certificate(_) => Err("host certificates are not supported".to_string()),
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(reason) => {
                *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
                Ok(false)
            }
        }
    }
}

async fn step<T, E: std::fmt::Display>(
    what: &str,
    timeout: Duration,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, AttemptError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(AttemptError::transient(format!("SFTP {what}: {e}"))),
        Err(_) => Err(AttemptError::transient(format!("SFTP {what}: timed out after {} s", timeout.as_secs_f64()))),
    }
}

/// Upload `local` to the target; returns the remote path.
pub async fn upload(
    policy: &NetPolicy,
    keys: &HostKeyPolicy,
    target: &SftpTarget,
    local: &Path,
    task_id: &str,
    timeout: Duration,
) -> Result<String, AttemptError> {
    let addrs = {
        let (p, h, port) = (policy.clone(), target.host.clone(), target.port);
        tokio::task::spawn_blocking(move || resolve_checked(&p, &h, port))
            .await
            .map_err(|e| AttemptError::transient(format!("resolver crashed: {e}")))??
    };
    let mut stream = None;
    let mut last = String::new();
    for a in &addrs {
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                stream = Some(s);
                break;
            }
            Ok(Err(e)) => last = format!("{a}: {e}"),
            Err(_) => last = format!("{a}: timed out"),
        }
    }
    let stream = stream.ok_or_else(|| AttemptError::transient(format!("cannot connect to the SFTP server: {last}")))?;
    let _ = stream.set_nodelay(true);

    let config = Arc::new(russh::client::Config { inactivity_timeout: Some(timeout), ..Default::default() });
    let refusal = Arc::new(Mutex::new(None));
    let handler =
        Client { host: target.host.clone(), port: target.port, policy: keys.clone(), refusal: refusal.clone() };
    let connected = tokio::time::timeout(timeout, russh::client::connect_stream(config, stream, handler)).await;
    let mut session = match connected {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            if let Some(reason) = refusal.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(AttemptError::permanent(format!("SFTP server refused: {reason}")));
            }
            return Err(AttemptError::transient(format!("SFTP handshake: {e}")));
        }
        Err(_) => return Err(AttemptError::transient("SFTP handshake timed out")),
    };

    let mut authed = false;
    if let Some(pem) = &target.private_key {
        let key = russh::keys::decode_secret_key(pem, None).map_err(|e| {
            AttemptError::permanent(format!("private_key cannot be read (expected an unencrypted PEM key): {e}"))
        })?;
        let hash = step("key exchange", timeout, session.best_supported_rsa_hash()).await?.flatten();
        let auth = step(
            "public-key login",
            timeout,
            session.authenticate_publickey(target.username.clone(), PrivateKeyWithHashAlg::new(Arc::new(key), hash)),
        )
        .await?;
        authed = auth.success();
    }
    if !authed {
        if let Some(pw) = &target.password {
            let auth =
                step("password login", timeout, session.authenticate_password(target.username.clone(), pw.clone()))
                    .await?;
            authed = auth.success();
        }
    }
    if !authed {
        let _ = session.disconnect(russh::Disconnect::ByApplication, "", "en").await;
        return Err(AttemptError::permanent(format!(
            "SFTP login refused for user {:?} (wrong password or key not authorized)",
            target.username
        )));
    }

    let result = transfer(&session, target, local, task_id, timeout).await;
    let _ = session.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    result
}

async fn transfer(
    session: &russh::client::Handle<Client>,
    target: &SftpTarget,
    local: &Path,
    task_id: &str,
    timeout: Duration,
) -> Result<String, AttemptError> {
    let channel = step("open channel", timeout, session.channel_open_session()).await?;
    step("start subsystem", timeout, channel.request_subsystem(true, "sftp")).await?;
    let sftp = step("start session", timeout, SftpSession::new(channel.into_stream())).await?;
    sftp.set_timeout(timeout.as_secs().max(1));

    let is_dir = !target.path.ends_with('/')
        && matches!(tokio::time::timeout(timeout, sftp.metadata(target.path.clone())).await, Ok(Ok(m)) if m.is_dir());
    let (dir, name) = split_remote_path(&target.path, task_id, is_dir);
    if name.is_empty() || name == "." || name == ".." {
        return Err(AttemptError::permanent(format!("SFTP path {:?} names no file", target.path)));
    }
    make_dirs(&sftp, &dir, timeout).await?;
    let part = join_remote(&dir, &format!(".{name}.part"));
    let dest = join_remote(&dir, &name);

    let mut input = tokio::fs::File::open(local)
        .await
        .map_err(|e| AttemptError::permanent(format!("cannot read the output file: {e}")))?;
    let mut remote = step("create file", timeout, sftp.create(part.clone())).await?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input
            .read(&mut buf)
            .await
            .map_err(|e| AttemptError::transient(format!("cannot read the output file: {e}")))?;
        if n == 0 {
            break;
        }
        step("write", timeout, remote.write_all(&buf[..n])).await?;
    }
    step("close file", timeout, remote.shutdown()).await?;
    let _ = tokio::time::timeout(timeout, sftp.remove_file(dest.clone())).await;
    step("rename", timeout, sftp.rename(part, dest.clone())).await?;
    let _ = sftp.close().await;
    Ok(dest)
}

async fn make_dirs(sftp: &SftpSession, dir: &str, timeout: Duration) -> Result<(), AttemptError> {
    for prefix in dir_prefixes(dir) {
        let exists = step("stat", timeout, sftp.try_exists(prefix.clone())).await?;
        if !exists {
            step("mkdir", timeout, sftp.create_dir(prefix)).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJ9u3JtB0BSnUcZEVshMi9LaM7MEw6bDzAKKyuuA0Uut";
    const B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIIHHdgQv7pdm7a57/2pl/7sRkAsr3zNsbEdpunGym6T+";

    #[tokio::test]
    async fn first_key_is_pinned_and_a_change_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("db.sqlite")).expect("store");
        let a = russh::keys::parse_public_key_base64(A).expect("key a");
        let b = russh::keys::parse_public_key_base64(B).expect("key b");
        let pins = HostKeyPolicy::new(store, None);
        assert_eq!(pins.check("files.example", 22, &a).await, Ok(()), "first use pins");
        assert_eq!(pins.check("files.example", 22, &a).await, Ok(()), "same key again");
        let err = pins.check("files.example", 22, &b).await.expect_err("changed key");
        assert!(err.contains("changed since it was first pinned"), "{err}");
        assert_eq!(pins.check("files.example", 2222, &b).await, Ok(()), "pins are per host:port");
    }

    #[tokio::test]
    async fn known_hosts_is_strict() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("db.sqlite")).expect("store");
        let known = dir.path().join("known_hosts");
        std::fs::write(&known, format!("files.example ssh-ed25519 {A}\n[files.example]:2222 ssh-ed25519 {B}\n"))
            .expect("write");
        let a = russh::keys::parse_public_key_base64(A).expect("key a");
        let b = russh::keys::parse_public_key_base64(B).expect("key b");
        let strict = HostKeyPolicy::new(store, Some(known));
        assert_eq!(strict.check("files.example", 22, &a).await, Ok(()));
        assert_eq!(strict.check("files.example", 2222, &b).await, Ok(()));
        let err = strict.check("files.example", 22, &b).await.expect_err("wrong key");
        assert!(err.contains("differs from the known-hosts file"), "{err}");
        let err = strict.check("other.example", 22, &a).await.expect_err("unlisted host");
        assert!(err.contains("not in the known-hosts file"), "{err}");
    }

    #[test]
    fn debug_hides_secrets() {
        let t = SftpTarget {
            host: "h".into(),
            port: 22,
            username: "u".into(),
            password: Some("pw-123".into()),
            private_key: Some("-----BEGIN OPENSSH PRIVATE KEY-----".into()),
            path: "/".into(),
        };
        let s = format!("{t:?}");
        assert!(!s.contains("pw-123") && !s.contains("PRIVATE"), "{s}");
    }
}
