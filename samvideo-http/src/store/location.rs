//! Where the store lives, as `--store` (env `SAMVIDEO_STORE`) names it: `sqlite:PATH` (the
//! embedded file; the default is `samvideo.db` in the data dir) or `postgres://...` /
//! `postgresql://...` (a shared database; libpq's URL form).
//!
//! Enter: the flag's text ([`StoreLocation::from_str`]). Leave: the location, shown with any
//! password hidden ([`std::fmt::Display`]), for logs and error messages.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A store's location.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An SQLite file (created when missing).
    Sqlite(PathBuf),
    /// A Postgres connection URL.
    Postgres(String),
}

/// `--store` text that names no store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store {0:?} (expected sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")]
pub struct BadStoreLocation(pub String);

impl FromStr for StoreLocation {
    type Err = BadStoreLocation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(BadStoreLocation(s.to_string()));
            }
            return Ok(StoreLocation::Sqlite(PathBuf::from(path)));
        }
        let is_url = ["postgres://", "postgresql://"].iter().any(|p| s.starts_with(p));
        if is_url && s.len() > "postgres://".len() {
            return Ok(StoreLocation::Postgres(s.to_string()));
        }
        Err(BadStoreLocation(redact(s)))
    }
}

/// `scheme://user:password@host` -> `scheme://user:***@host`; anything else as it is.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreLocation({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends_and_hides_passwords() {
        assert_eq!("sqlite:data/x.db".parse(), Ok(StoreLocation::Sqlite("data/x.db".into())));
        assert_eq!("sqlite:///abs/x.db".parse(), Ok(StoreLocation::Sqlite("/abs/x.db".into())));
        let pg: StoreLocation = "postgres://sam:s3cret@db:5432/samvideo".parse().expect("url");
        assert_eq!(pg, StoreLocation::Postgres("postgres://sam:s3cret@db:5432/samvideo".into()));
        assert_eq!(pg.to_string(), "postgres://sam:***@db:5432/samvideo");
        assert_eq!(format!("{pg:?}"), "StoreLocation(postgres://sam:***@db:5432/samvideo)");
        assert!("postgresql://localhost/x".parse::<StoreLocation>().is_ok());
        for bad in ["", "sqlite:", "mysql://u:pw@h/db", "postgres://", "data/x.db"] {
            let err = bad.parse::<StoreLocation>().expect_err(bad);
            assert!(!err.to_string().contains("pw"), "{err}");
            assert!(err.to_string().contains("expected sqlite:PATH or postgres://"), "{err}");
        }
    }
}
