//! The validation matrix as Markdown, generated from the tables in `rules.rs`, so the docs
//! (`docs/api-validation.md`) cannot drift from the code: a test compares them.

use std::fmt::Write;

use super::rules::{Field, Rule, TABLES};

/// The whole validation matrix as Markdown tables (one per body), generated from the rules
/// the validator runs. `docs/api-validation.md` embeds exactly this text.
pub fn matrix_markdown() -> String {
    let mut out = String::new();
    for (title, table) in TABLES {
        let _ = writeln!(out, "#### {title}\n\n| Field | Required | Accepted |\n|---|---|---|");
        rows(&mut out, table, "");
        out.push('\n');
    }
    out
}

fn rows(out: &mut String, table: &[Field], prefix: &str) {
    for field in table {
        let name = format!("{prefix}{}", field.name);
        let required = if field.required { "yes" } else { "" };
        let _ = writeln!(out, "| `{name}` | {required} | {} |", describe(&field.rule));
        match &field.rule {
            Rule::Object(t) => rows(out, t, &format!("{name}.")),
            Rule::Items(t) => rows(out, t, &format!("{name}[].")),
            _ => {}
        }
    }
}

fn describe(rule: &Rule) -> String {
    match rule {
        Rule::OneOf(values) => {
            let v: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            format!("one of {}", v.join(", "))
        }
        Rule::Range { min, max } => format!("number, {min} to {max} (inclusive)"),
        Rule::IntRange { min, max } => format!("integer, {min} to {max} (inclusive)"),
        Rule::FrameRate { min, max } => format!(
            "integer, {min} to {max} (inclusive), or {} (exact NTSC rates)",
            crate::frame_rate::NTSC_RATES.map(|(text, _)| text).join(", ")
        ),
        Rule::Positive => "number > 0".into(),
        Rule::AtLeast(min) => format!("number >= {min}"),
        Rule::Bool => "boolean (`true`/`false` only)".into(),
        Rule::Str { non_empty, max_chars } => {
            let mut s = if *non_empty { "non-empty string".to_string() } else { "string".to_string() };
            if let Some(n) = max_chars {
                let _ = write!(s, ", at most {n} characters");
            }
            s
        }
        Rule::Color => "color `#RRGGBB`".into(),
        Rule::ColorAlpha => "color `#RRGGBB` or `#RRGGBBAA`".into(),
        Rule::HttpUrl => "`http://` or `https://` URL".into(),
        Rule::Object(_) => "object".into(),
        Rule::Shared(title, _) | Rule::Flat(title, _) => format!("object: see *{title}*"),
        Rule::Items(_) => "array of objects".into(),
        Rule::Custom { doc, .. } => (*doc).into(),
    }
}
