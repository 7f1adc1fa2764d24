//! Response schemas of the document: schemars derives them from the structs in
//! `crate::responses` that the handlers serialize (so the document lists exactly the fields
//! the server sends), into `#/components/schemas/`.
//!
//! Enter: a [`SchemaGenerator`] from [`generator`] and the types an operation answers.
//! Leave: `$ref` schemas, and the components with `take_definitions`.

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::requests::PREFIX;
use crate::responses::tasks::{AdvancedCreated, Preview};
use crate::responses::{ErrorBody, Said};

/// A generator whose `$ref`s point into the document's components.
pub fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = PREFIX.trim_start_matches('#').into();
            s.meta_schema = None;
        })
        .into_generator()
}

/// The schema (a `$ref`) of `T`.
pub fn of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// The error body every failure answers.
pub fn error(g: &mut SchemaGenerator) -> Schema {
    of::<ErrorBody>(g)
}

/// `POST /api/render/advanced-video`: a queued full render or a rendered preview.
pub fn advanced_started(g: &mut SchemaGenerator) -> Schema {
    let full = of::<Said<AdvancedCreated>>(g);
    let preview = of::<Said<Preview>>(g);
    json_schema!({"oneOf": [full, preview]})
}

/// Any JSON object (this document).
pub fn any_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "object"})
}
