//! The schema of a store: the serde shapes of its key and value types, as
//! a stable 64-bit fingerprint and a readable description.
//!
//! The shape is traced through the types' `Deserialize` impls (see
//! [`crate::trace`]), so it is what bincode will actually read: primitive
//! widths and signs, strings versus byte sequences, struct field names and
//! order, tuple lengths, enum variant names, order and contents. Container
//! names (of structs and enums) are left out, so renaming a type is not a
//! schema change; renaming, adding, removing or reordering a field or a
//! variant is. The fingerprint is FNV-1a (64-bit) of the full rendering:
//! the same on every platform and compiler version.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::de::DeserializeOwned;

use crate::codec::SchemaRecord;
use crate::trace::{Container, Node, TraceError, VariantShape, trace};

/// Descriptions longer than this many characters are cut (with `…`) in
/// the schema record and in error messages; the fingerprint covers all.
const MAX_DESCRIPTION: usize = 200;

/// Why a type cannot be stored.
#[derive(Debug)]
pub(crate) struct Unsupported {
    /// `"key"` or `"value"`.
    pub(crate) which: &'static str,
    /// What the type asked for.
    pub(crate) detail: String,
}

/// The shapes of `K` and `V` with the user's schema version: the schema
/// record a log of these types starts with.
pub(crate) fn schema_of<K: DeserializeOwned, V: DeserializeOwned>(
    user_version: u32,
) -> Result<SchemaRecord, Unsupported> {
    let key = shape_of::<K>().map_err(|detail| Unsupported {
        which: "key",
        detail,
    })?;
    let value = shape_of::<V>().map_err(|detail| Unsupported {
        which: "value",
        detail,
    })?;
    let fingerprint = fnv1a(format!("{key}\u{0}{value}").as_bytes());
    Ok(SchemaRecord {
        fingerprint,
        user_version,
        key: shorten(&key),
        value: shorten(&value),
    })
}

/// The rendered shape of `T`. A type whose `Deserialize` refuses the
/// tracer's sample values (a string that must parse as a date; integers
/// are tried with 0, then 1) is `opaque`: stored and read as usual, but not told
/// apart from other opaque types.
fn shape_of<T: DeserializeOwned>() -> Result<String, String> {
    match trace::<T>() {
        Ok(traced) => {
            let mut out = String::new();
            render(&traced.root, &traced.registry, &mut Vec::new(), &mut out);
            Ok(out)
        }
        Err(TraceError::Unsupported(what)) => Err(format!("its Deserialize calls {what}")),
        Err(TraceError::Rejected(_)) => Ok("opaque".to_owned()),
    }
}

/// A human-readable description of a schema record, for messages.
pub(crate) fn describe(record: &SchemaRecord) -> String {
    format!(
        "({}, {}) at schema version {}",
        record.key, record.value, record.user_version
    )
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_DESCRIPTION) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn render_list(
    nodes: &[Node],
    reg: &HashMap<String, Container>,
    stack: &mut Vec<String>,
    out: &mut String,
) {
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        render(node, reg, stack, out);
    }
}

fn render_fields(
    fields: &[(&str, Node)],
    reg: &HashMap<String, Container>,
    stack: &mut Vec<String>,
    out: &mut String,
) {
    out.push_str("{ ");
    for (i, (name, node)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str(": ");
        render(node, reg, stack, out);
    }
    out.push_str(" }");
}

fn render_opt(
    node: Option<&Node>,
    reg: &HashMap<String, Container>,
    stack: &mut Vec<String>,
    out: &mut String,
) {
    match node {
        Some(node) => render(node, reg, stack, out),
        None => out.push('?'),
    }
}

/// Appends the rendering of `node` to `out`; `stack` holds the containers
/// being rendered, so a recursive reference renders as `self^n` (the
/// container `n` levels out) instead of looping.
fn render(
    node: &Node,
    reg: &HashMap<String, Container>,
    stack: &mut Vec<String>,
    out: &mut String,
) {
    match node {
        Node::Prim(name) => out.push_str(name),
        Node::Option(inner) => {
            out.push_str("Option<");
            render_opt(inner.as_deref(), reg, stack, out);
            out.push('>');
        }
        Node::Seq(inner) => {
            out.push('[');
            render_opt(inner.as_deref(), reg, stack, out);
            out.push(']');
        }
        Node::Map(entry) => {
            out.push_str("map<");
            match entry.as_deref() {
                Some((k, v)) => {
                    render(k, reg, stack, out);
                    out.push_str(", ");
                    render(v, reg, stack, out);
                }
                None => out.push('?'),
            }
            out.push('>');
        }
        Node::Tuple(nodes) => {
            out.push('(');
            render_list(nodes, reg, stack, out);
            out.push_str(if nodes.len() == 1 { ",)" } else { ")" });
        }
        Node::UnitStruct => out.push_str("unit"),
        Node::Newtype(inner) => {
            out.push_str("newtype(");
            render(inner, reg, stack, out);
            out.push(')');
        }
        Node::TupleStruct(nodes) => {
            out.push_str("tuple_struct(");
            render_list(nodes, reg, stack, out);
            out.push(')');
        }
        Node::Struct(key) | Node::Enum(key) => {
            if let Some(depth) = stack.iter().rev().position(|k| k == key) {
                let _ = write!(out, "self^{}", depth + 1);
                return;
            }
            stack.push(key.clone());
            render_container(matches!(node, Node::Enum(_)), reg.get(key), reg, stack, out);
            stack.pop();
        }
    }
}

fn render_container(
    is_enum: bool,
    container: Option<&Container>,
    reg: &HashMap<String, Container>,
    stack: &mut Vec<String>,
    out: &mut String,
) {
    if !is_enum {
        out.push_str("struct ");
        match container.and_then(|c| c.fields.as_deref()) {
            Some(fields) => render_fields(fields, reg, stack, out),
            None => out.push('?'),
        }
        return;
    }
    out.push_str("enum { ");
    let variants = container.map_or(&[][..], |c| &c.variants[..]);
    for (i, (name, shape)) in variants.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        match shape {
            None => out.push('?'),
            Some(VariantShape::Unit) => {}
            Some(VariantShape::Newtype(node)) => {
                out.push('(');
                render(node, reg, stack, out);
                out.push(')');
            }
            Some(VariantShape::Tuple(nodes)) => {
                out.push('(');
                render_list(nodes, reg, stack, out);
                out.push_str(if nodes.len() == 1 { ",)" } else { ")" });
            }
            Some(VariantShape::Struct(fields)) => {
                out.push(' ');
                render_fields(fields, reg, stack, out);
            }
        }
    }
    out.push_str(" }");
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
