//! Unit tests of the shape tracer and its rendering.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

fn shape<T: DeserializeOwned>() -> String {
    shape_of::<T>().expect("supported")
}

fn print<K: DeserializeOwned, V: DeserializeOwned>() -> u64 {
    schema_of::<K, V>(0).expect("supported").fingerprint
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Person {
    name: String,
    age: u32,
}

mod renamed {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    pub struct Human {
        pub name: String,
        pub age: u32,
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PersonV2 {
    name: String,
    age: u32,
    email: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
enum Ab {
    A(u32),
    B { x: String },
    C,
}

#[derive(Deserialize)]
#[allow(dead_code)]
enum Ba {
    B { x: String },
    A(u32),
    C,
}

#[derive(Deserialize)]
#[allow(dead_code)]
enum List {
    Cons(u32, Box<List>),
    Nil,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Tree {
    label: u8,
    children: Vec<Tree>,
    parent: Option<Box<Tree>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
#[serde(untagged)]
enum Untagged {
    N(u64),
    S(String),
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Flat {
    a: u32,
    #[serde(flatten)]
    rest: BTreeMap<String, u32>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
#[serde(tag = "type")]
enum Tagged {
    One { a: u32 },
}

#[test]
fn primitives_and_containers_render_readably() {
    assert_eq!(shape::<u64>(), "u64");
    assert_eq!(shape::<Person>(), "struct { name: String, age: u32 }");
    assert_eq!(shape::<(String, u32)>(), "(String, u32)");
    assert_eq!(shape::<Vec<u8>>(), "[u8]");
    assert_eq!(shape::<Option<bool>>(), "Option<bool>");
    assert_eq!(shape::<BTreeMap<String, i64>>(), "map<String, i64>");
    assert_eq!(
        shape::<Ab>(),
        "enum { A(u32), B { x: String }, C }",
        "every variant is explored"
    );
    assert_eq!(shape::<Box<u16>>(), "u16", "a Box is transparent");
}

#[test]
fn types_that_decode_as_each_other_differ() {
    let pairs = [
        (print::<String, u64>(), print::<String, u32>()),
        (print::<String, u8>(), print::<Vec<u8>, u8>()),
        (print::<String, i8>(), print::<String, u8>()),
        (print::<u8, Person>(), print::<u8, (String, u32)>()),
        (print::<u8, Ab>(), print::<u8, Ba>()),
        (print::<u8, Person>(), print::<u8, PersonV2>()),
        (print::<u8, u16>(), print::<u16, u8>()),
    ];
    for (i, (a, b)) in pairs.into_iter().enumerate() {
        assert_ne!(a, b, "pair {i} has one fingerprint");
    }
}

#[test]
fn renaming_a_type_is_not_a_schema_change() {
    assert_eq!(print::<u8, Person>(), print::<u8, renamed::Human>());
}

#[test]
fn the_fingerprint_is_pinned() {
    // FNV-1a of the rendering: the same on every platform and compiler.
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(print::<String, u64>(), fnv1a(b"String\0u64"));
}

#[test]
fn recursive_types_terminate() {
    assert_eq!(shape::<List>(), "enum { Cons(u32, self^1), Nil }");
    assert_eq!(
        shape::<Tree>(),
        "struct { label: u8, children: [self^1], parent: Option<self^1> }"
    );
}

#[test]
fn self_describing_shapes_are_unsupported() {
    for (what, result) in [
        ("untagged", shape_of::<Untagged>()),
        ("flatten", shape_of::<Flat>()),
        ("internally tagged", shape_of::<Tagged>()),
    ] {
        let err = result.expect_err(what);
        assert!(err.contains("deserialize_"), "{what}: {err}");
    }
    let err = schema_of::<u8, Untagged>(0).expect_err("untagged value");
    assert_eq!(err.which, "value");
}

#[test]
fn long_descriptions_are_cut() {
    type Eight = (u64, u64, u64, u64, u64, u64, u64, u64);
    type Wide = (Eight, Eight, Eight, Eight, Eight, Eight);
    let record = schema_of::<u8, Wide>(3).expect("supported");
    assert!(record.value.ends_with('…'), "{}", record.value);
    assert_eq!(record.value.chars().count(), MAX_DESCRIPTION + 1);
    assert!(describe(&record).contains("schema version 3"));
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Counted {
    n: std::num::NonZeroU32,
    label: String,
}

/// Refuses every value: its shape cannot be traced.
#[allow(dead_code)]
struct Picky;

impl<'de> Deserialize<'de> for Picky {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Err(serde::de::Error::custom(format!("{s:?} is not picky")))
    }
}

#[test]
fn a_type_refusing_zero_is_traced_with_one() {
    // NonZeroU32 asks for a u32 and refuses 0.
    assert_eq!(shape::<Counted>(), "struct { n: u32, label: String }");
}

#[test]
fn a_type_refusing_every_sample_is_opaque() {
    assert_eq!(shape::<Picky>(), "opaque");
    assert_eq!(shape::<(u8, Picky)>(), "opaque");
}
