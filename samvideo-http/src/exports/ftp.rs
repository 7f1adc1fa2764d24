//! Upload the output over FTP (passive mode, binary), blocking: run on a blocking thread.
//!
//! Enter: an [`FtpTarget`] from `exports.destinations[]`, the local file, the policy. Leave:
//! the remote path written, or an [`AttemptError`].
//!
//! - Addresses: the host is resolved and checked here and the control connection goes to a
//!   checked address. The data connection goes to the control connection's peer address with
//!   the port from the `PASV` reply: a server cannot point it elsewhere (FTP bounce).
//! - Path: see `super::split_remote_path`. Without a trailing `/`, a path the server accepts
//!   as a directory (`CWD`) is a directory. Missing directories are created one level at a
//!   time. The file is written as `.<name>.part` and renamed, so watchers never pick up half
//!   a video; an existing file of the same name is replaced.
//! - Errors: a `530` login refusal is permanent; other failures are retried.
//! - Plain FTP only (no FTPS): the password crosses the network in clear, as FTP does.

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use samvideo_core::media::net_policy::NetPolicy;
use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, Status};

use super::{dir_prefixes, join_remote, resolve_checked, split_remote_path, AttemptError};

/// An FTP destination.
#[derive(Clone)]
pub struct FtpTarget {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login.
    pub username: String,
    /// Password (never shown).
    pub password: String,
    /// Directory or file path.
    pub path: String,
}

impl std::fmt::Debug for FtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("path", &self.path)
            .finish()
    }
}

/// Describe an FTP error without anything but the server's reply.
fn describe(step: &str, e: &FtpError) -> AttemptError {
    match e {
        FtpError::UnexpectedResponse(r) => {
            let body = String::from_utf8_lossy(&r.body).trim().to_string();
            let msg = format!("FTP {step} refused: {body}");
            if r.status == Status::NotLoggedIn {
                AttemptError::permanent(msg)
            } else {
                AttemptError::transient(msg)
            }
        }
        FtpError::ConnectionError(io) => AttemptError::transient(format!("FTP {step}: connection error: {io}")),
        other => AttemptError::transient(format!("FTP {step}: {other}")),
    }
}

fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, AttemptError> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                return Ok(s);
            }
            Err(e) => last = Some(format!("{a}: {e}")),
        }
    }
    Err(AttemptError::transient(format!("cannot connect to the FTP server: {}", last.unwrap_or_default())))
}

/// Upload `local` to the target; returns the remote path.
pub fn upload(
    policy: &NetPolicy,
    target: &FtpTarget,
    local: &Path,
    task_id: &str,
    timeout: Duration,
) -> Result<String, AttemptError> {
    let addrs = resolve_checked(policy, &target.host, target.port)?;
    let control = connect(&addrs, timeout)?;
    let peer = control.peer_addr().map_err(|e| AttemptError::transient(format!("FTP connection lost: {e}")))?;
    let ftp = FtpStream::connect_with_stream(control).map_err(|e| describe("greeting", &e))?;
    let mut ftp = ftp.passive_stream_builder(move |pasv: SocketAddr| {
        // Only the port of the PASV reply is used: the data connection goes where the
        // control connection went.
        let data = SocketAddr::new(peer.ip(), pasv.port());
        let s = TcpStream::connect_timeout(&data, timeout).map_err(FtpError::ConnectionError)?;
        s.set_read_timeout(Some(timeout)).map_err(FtpError::ConnectionError)?;
        s.set_write_timeout(Some(timeout)).map_err(FtpError::ConnectionError)?;
        Ok(s)
    });
    ftp.login(target.username.as_str(), target.password.as_str()).map_err(|e| describe("login", &e))?;
    let result = put(&mut ftp, target, local, task_id);
    let _ = ftp.quit();
    result
}

fn put(ftp: &mut FtpStream, target: &FtpTarget, local: &Path, task_id: &str) -> Result<String, AttemptError> {
    ftp.transfer_type(FileType::Binary).map_err(|e| describe("TYPE I", &e))?;
    let home = ftp.pwd().map_err(|e| describe("PWD", &e))?;
    let is_dir = !target.path.ends_with('/') && ftp.cwd(&target.path).is_ok();
    if is_dir {
        ftp.cwd(&home).map_err(|e| describe("CWD", &e))?;
    }
    let (dir, name) = split_remote_path(&target.path, task_id, is_dir);
    if name.is_empty() || name == "." || name == ".." {
        return Err(AttemptError::permanent(format!("FTP path {:?} names no file", target.path)));
    }
    make_dirs(ftp, &dir, &home)?;
    let part = join_remote(&dir, &format!(".{name}.part"));
    let dest = join_remote(&dir, &name);
    let file =
        std::fs::File::open(local).map_err(|e| AttemptError::permanent(format!("cannot read the output file: {e}")))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    ftp.put_file(&part, &mut reader).map_err(|e| describe("upload", &e))?;
    let _ = ftp.rm(&dest);
    ftp.rename(&part, &dest).map_err(|e| describe("rename", &e))?;
    Ok(dest)
}

/// `mkdir -p`: create each missing level (errors are checked by the upload itself).
fn make_dirs(ftp: &mut FtpStream, dir: &str, home: &str) -> Result<(), AttemptError> {
    if dir.is_empty() || dir == "/" {
        return Ok(());
    }
    if ftp.cwd(dir).is_ok() {
        return ftp.cwd(home).map_err(|e| describe("CWD", &e));
    }
    for prefix in dir_prefixes(dir) {
        let _ = ftp.mkdir(&prefix);
    }
    Ok(())
}
