//! `exports.destinations`: at most 5, each an email, ftp or sftp destination with its
//! required fields (a tagged union: `rules::DESTINATIONS` names the table of each `type`).

use serde_json::Value;

use super::check::{check_rule, check_table, Path};
use super::error::{Invalid, Problem};
use super::rules::{Rule, DESTINATIONS, DESTINATION_TYPES, MAX_DESTINATIONS};

/// `exports.destinations`.
pub(crate) fn destinations(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let Some(v) = v else { return Ok(()) };
    let items = v.as_array_mut().ok_or_else(|| path.err("destinations", Problem::Array))?;
    if items.len() > MAX_DESTINATIONS {
        return Err(path.err("destinations", Problem::AtMost(MAX_DESTINATIONS)));
    }
    for (i, item) in items.iter_mut().enumerate() {
        let obj =
            item.as_object_mut().ok_or_else(|| Invalid::field(path.item_name("destinations", i), Problem::Object))?;
        let p = path.item("destinations", i);
        let kind = obj.get_mut("type").ok_or_else(|| p.err("type", Problem::Required))?;
        check_rule(&Rule::OneOf(DESTINATION_TYPES), kind, "type", &p)?;
        let kind = obj.get("type").and_then(Value::as_str).unwrap_or_default();
        let sftp = kind == "sftp";
        if let Some((_, table)) = DESTINATIONS.iter().find(|(t, _)| *t == kind) {
            check_table(obj, table, &p)?;
        }
        if sftp {
            let has = |k: &str| obj.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
            if !has("password") && !has("private_key") && !p.partial {
                return Err(p.err("password or private_key", Problem::Required));
            }
        }
    }
    Ok(())
}

/// `email.to`: one address or a non-empty array of addresses.
pub(crate) fn email_to(v: Option<&mut Value>, path: &Path) -> Result<(), Invalid> {
    let ok = match v {
        None if path.partial => true,
        None => return Err(path.err("to", Problem::Required)),
        Some(Value::String(s)) => is_email(s),
        Some(Value::Array(a)) => !a.is_empty() && a.iter().all(|x| x.as_str().is_some_and(is_email)),
        Some(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(path.err("to", Problem::Email))
    }
}

/// `local@domain`, both parts non-empty, one `@`, no whitespace. Deliverability is the mail
/// server's business; this catches the obvious mistakes (a name, an empty string).
fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}
