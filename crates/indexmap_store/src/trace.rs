//! A tracing `Deserializer`: learns the serde *shape* of a type by letting
//! its `Deserialize` impl ask for what it needs, and recording every
//! request (after the idea of the `serde-reflection` crate).
//!
//! Each request is answered with a sample value (zero, empty, `Some`, the
//! variant being explored) so that the impl goes on to its next request.
//! Structs and enums are recorded in a registry keyed by their serde name
//! and field or variant names; an enum's variants are explored one per
//! pass, so [`trace`] runs passes until every reachable variant is known.
//! Re-entering a container that is already being traced (a recursive type)
//! switches to *shadow* mode: sequences and maps are empty, options `None`
//! and enums take a variant known to end, so tracing terminates.
//!
//! `deserialize_any`, `deserialize_ignored_any` and `deserialize_identifier`
//! are what self-describing formats answer and bincode cannot; a type that
//! asks for them is [`TraceError::Unsupported`].

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

/// One node of a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// A primitive, by its rendered name (`u32`, `String`, `bytes`, ...).
    Prim(&'static str),
    /// `Option<T>`; `None` if the inner type was never reached.
    Option(Option<Box<Node>>),
    /// A sequence of elements of one shape (`None`: never reached).
    Seq(Option<Box<Node>>),
    /// A map of keys and values.
    Map(Option<Box<(Node, Node)>>),
    /// A tuple.
    Tuple(Vec<Node>),
    /// A unit struct.
    UnitStruct,
    /// A newtype struct.
    Newtype(Box<Node>),
    /// A tuple struct.
    TupleStruct(Vec<Node>),
    /// A struct, by registry key.
    Struct(String),
    /// An enum, by registry key.
    Enum(String),
}

/// The content of an enum variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VariantShape {
    Unit,
    Newtype(Node),
    Tuple(Vec<Node>),
    Struct(Vec<(&'static str, Node)>),
}

/// What the registry knows about a container.
#[derive(Debug, Clone, Default)]
pub(crate) struct Container {
    /// Struct fields, in order, once traced.
    pub(crate) fields: Option<Vec<(&'static str, Node)>>,
    /// Enum variants, in order, each with its content once explored.
    pub(crate) variants: Vec<(&'static str, Option<VariantShape>)>,
}

/// Why a type could not be traced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TraceError {
    /// The type asks for a self-describing format (`deserialize_any`, ...).
    Unsupported(&'static str),
    /// The type's `Deserialize` refused a sample value, or nests too deep.
    Rejected(String),
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(what) => write!(f, "its Deserialize calls {what}"),
            Self::Rejected(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::Rejected(msg.to_string())
    }
}

/// The traced shape of one type: its root and every container it reaches.
#[derive(Debug, Clone)]
pub(crate) struct Traced {
    pub(crate) root: Node,
    pub(crate) registry: HashMap<String, Container>,
}

/// Deeper than this, tracing gives up (a type that cannot end).
const MAX_DEPTH: usize = 200;
/// At most this many passes (one enum variant explored per pass at least).
const MAX_PASSES: usize = 10_000;

#[derive(Default)]
struct State {
    registry: HashMap<String, Container>,
    /// Containers being traced, innermost last.
    stack: Vec<String>,
    /// Above zero while re-tracing a container already on the stack.
    shadow: usize,
    /// The node the last `deserialize_*` call produced.
    last: Option<Node>,
    /// Whether this pass explored a variant not known before.
    progress: bool,
    /// Enum variants being traced (registry key, variant index).
    in_progress: Vec<(String, usize)>,
}

/// Traces `T`'s shape through its `Deserialize` impl.
pub(crate) fn trace<T: de::DeserializeOwned>() -> Result<Traced, TraceError> {
    let mut state = State::default();
    let mut root = None;
    for _ in 0..MAX_PASSES {
        state.progress = false;
        T::deserialize(Tracer {
            state: &mut state,
            depth: 0,
        })?;
        let node = state.last.take().ok_or_else(|| {
            TraceError::Rejected("the type asked for nothing to deserialize".to_owned())
        })?;
        root.get_or_insert(node);
        let unexplored = state
            .registry
            .values()
            .any(|c| c.variants.iter().any(|(_, v)| v.is_none()));
        if !unexplored || !state.progress {
            break;
        }
    }
    let root = root.ok_or_else(|| TraceError::Rejected("no pass ran".to_owned()))?;
    Ok(Traced {
        root,
        registry: state.registry,
    })
}

struct Tracer<'s> {
    state: &'s mut State,
    depth: usize,
}

impl<'s> Tracer<'s> {
    fn child(&mut self) -> Tracer<'_> {
        Tracer {
            state: &mut *self.state,
            depth: self.depth + 1,
        }
    }

    fn check_depth(&self) -> Result<(), TraceError> {
        if self.depth > MAX_DEPTH {
            return Err(TraceError::Rejected(format!(
                "the type nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    fn prim<R>(self, name: &'static str, visit: impl FnOnce() -> R) -> R {
        self.state.last = Some(Node::Prim(name));
        visit()
    }

    /// Visits a sequence of `len` elements (or of one, or none in shadow
    /// mode, when `len` is `None`) and returns the visitor's value and the
    /// element nodes.
    fn visit_seq<'de, V: Visitor<'de>>(
        mut self,
        len: Option<usize>,
        visitor: V,
    ) -> Result<(V::Value, Vec<Node>), TraceError> {
        self.check_depth()?;
        let len = len.unwrap_or(usize::from(self.state.shadow == 0));
        let mut seq = SeqTracer {
            tracer: self.child(),
            left: len,
            nodes: Vec::new(),
        };
        let value = visitor.visit_seq(&mut seq)?;
        let nodes = seq.nodes;
        Ok((value, nodes))
    }

    /// Traces a named container's content with `f`, keeping the stack and
    /// shadow mode.
    fn enter<R>(
        &mut self,
        key: &str,
        f: impl FnOnce(&mut Self) -> Result<R, TraceError>,
    ) -> Result<R, TraceError> {
        let recursive = self.state.stack.iter().any(|k| k == key);
        self.state.shadow += usize::from(recursive);
        self.state.stack.push(key.to_owned());
        let result = f(self);
        self.state.stack.pop();
        self.state.shadow -= usize::from(recursive);
        result
    }
}

fn key_of(kind: &str, name: &str, parts: &[&str]) -> String {
    format!("{kind} {name} {}", parts.join(","))
}

macro_rules! prims {
    ($($method:ident $visit:ident $name:literal $value:expr;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.prim($name, || visitor.$visit($value))
        })*
    };
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = TraceError;

    prims! {
        deserialize_bool visit_bool "bool" false;
        deserialize_i8 visit_i8 "i8" 0;
        deserialize_i16 visit_i16 "i16" 0;
        deserialize_i32 visit_i32 "i32" 0;
        deserialize_i64 visit_i64 "i64" 0;
        deserialize_i128 visit_i128 "i128" 0;
        deserialize_u8 visit_u8 "u8" 0;
        deserialize_u16 visit_u16 "u16" 0;
        deserialize_u32 visit_u32 "u32" 0;
        deserialize_u64 visit_u64 "u64" 0;
        deserialize_u128 visit_u128 "u128" 0;
        deserialize_f32 visit_f32 "f32" 0.0;
        deserialize_f64 visit_f64 "f64" 0.0;
        deserialize_char visit_char "char" 'a';
        deserialize_str visit_str "String" "";
        deserialize_string visit_string "String" String::new();
        deserialize_bytes visit_bytes "bytes" &[];
        deserialize_byte_buf visit_byte_buf "bytes" Vec::new();
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        self.prim("()", || visitor.visit_unit())
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, TraceError> {
        Err(TraceError::Unsupported("deserialize_any"))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, TraceError> {
        Err(TraceError::Unsupported("deserialize_ignored_any"))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _: V) -> Result<V::Value, TraceError> {
        Err(TraceError::Unsupported("deserialize_identifier"))
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, TraceError> {
        self.check_depth()?;
        if self.state.shadow > 0 {
            self.state.last = Some(Node::Option(None));
            return visitor.visit_none();
        }
        let value = visitor.visit_some(self.child())?;
        let inner = self.state.last.take().map(Box::new);
        self.state.last = Some(Node::Option(inner));
        Ok(value)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.state.last = Some(Node::UnitStruct);
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.check_depth()?;
        let value = visitor.visit_newtype_struct(self.child())?;
        let inner = self.state.last.take().unwrap_or(Node::Prim("?"));
        self.state.last = Some(Node::Newtype(Box::new(inner)));
        Ok(value)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let Tracer { state, depth } = self;
        let (value, nodes) = Tracer {
            state: &mut *state,
            depth,
        }
        .visit_seq(None, visitor)?;
        state.last = Some(Node::Seq(nodes.into_iter().next().map(Box::new)));
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let Tracer { state, depth } = self;
        let (value, nodes) = Tracer {
            state: &mut *state,
            depth,
        }
        .visit_seq(Some(len), visitor)?;
        state.last = Some(Node::Tuple(nodes));
        Ok(value)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let Tracer { state, depth } = self;
        let (value, nodes) = Tracer {
            state: &mut *state,
            depth,
        }
        .visit_seq(Some(len), visitor)?;
        state.last = Some(Node::TupleStruct(nodes));
        Ok(value)
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, TraceError> {
        self.check_depth()?;
        let left = usize::from(self.state.shadow == 0);
        let mut map = MapTracer {
            tracer: self.child(),
            left,
            key: None,
            entry: None,
        };
        let value = visitor.visit_map(&mut map)?;
        let entry = map.entry.map(Box::new);
        self.state.last = Some(Node::Map(entry));
        Ok(value)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let key = key_of("struct", name, fields);
        let value = self.enter(&key, |t| {
            let (value, nodes) = Tracer {
                state: &mut *t.state,
                depth: t.depth,
            }
            .visit_seq(Some(fields.len()), visitor)?;
            if t.state.shadow == 0 {
                let entry = t.state.registry.entry(key.clone()).or_default();
                entry.fields = Some(fields.iter().copied().zip(nodes).collect());
            }
            Ok(value)
        })?;
        self.state.last = Some(Node::Struct(key));
        Ok(value)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.check_depth()?;
        if variants.is_empty() {
            return Err(TraceError::Rejected(format!(
                "enum {name} has no variant to deserialize"
            )));
        }
        let key = key_of("enum", name, variants);
        let container = self.state.registry.entry(key.clone()).or_default();
        if container.variants.is_empty() {
            container.variants = variants.iter().map(|v| (*v, None)).collect();
        }
        let value = self.enter(&key, |t| {
            let known = &t.state.registry[&key].variants;
            let index = if t.state.shadow == 0 {
                // Explore the first variant not known yet.
                known.iter().position(|(_, v)| v.is_none()).unwrap_or(0)
            } else {
                // Take a variant likely to end: a known unit one, else the
                // first one not already being traced.
                let busy = |i: usize| {
                    t.state
                        .in_progress
                        .iter()
                        .any(|(k, j)| *k == key && *j == i)
                };
                known
                    .iter()
                    .position(|(_, v)| v == &Some(VariantShape::Unit))
                    .or_else(|| (0..known.len()).find(|i| !busy(*i)))
                    .unwrap_or(0)
            };
            t.state.in_progress.push((key.clone(), index));
            let value = visitor.visit_enum(EnumTracer {
                tracer: Tracer {
                    state: &mut *t.state,
                    depth: t.depth + 1,
                },
                key: key.clone(),
                index,
            });
            t.state.in_progress.pop();
            value
        })?;
        self.state.last = Some(Node::Enum(key));
        Ok(value)
    }
}

struct SeqTracer<'s> {
    tracer: Tracer<'s>,
    left: usize,
    nodes: Vec<Node>,
}

impl<'de> de::SeqAccess<'de> for SeqTracer<'_> {
    type Error = TraceError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TraceError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let value = seed.deserialize(self.tracer.child())?;
        let node = self.tracer.state.last.take().unwrap_or(Node::Prim("?"));
        self.nodes.push(node);
        Ok(Some(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

struct MapTracer<'s> {
    tracer: Tracer<'s>,
    left: usize,
    key: Option<Node>,
    entry: Option<(Node, Node)>,
}

impl<'de> de::MapAccess<'de> for MapTracer<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let value = seed.deserialize(self.tracer.child())?;
        self.key = self.tracer.state.last.take();
        Ok(Some(value))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, TraceError> {
        let value = seed.deserialize(self.tracer.child())?;
        let node = self.tracer.state.last.take().unwrap_or(Node::Prim("?"));
        let key = self.key.take().unwrap_or(Node::Prim("?"));
        self.entry = Some((key, node));
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

struct EnumTracer<'s> {
    tracer: Tracer<'s>,
    key: String,
    index: usize,
}

impl<'de, 's> de::EnumAccess<'de> for EnumTracer<'s> {
    type Error = TraceError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self), TraceError> {
        let index = u32::try_from(self.index)
            .map_err(|_| TraceError::Rejected("too many enum variants".to_owned()))?;
        let variant = seed.deserialize(IntoDeserializer::<TraceError>::into_deserializer(index))?;
        Ok((variant, self))
    }
}

impl EnumTracer<'_> {
    fn record(&mut self, shape: VariantShape) {
        let state = &mut *self.tracer.state;
        if state.shadow > 0 {
            return;
        }
        if let Some(slot) = state
            .registry
            .get_mut(&self.key)
            .and_then(|c| c.variants.get_mut(self.index))
        {
            state.progress |= slot.1.is_none();
            slot.1 = Some(shape);
        }
    }
}

impl<'de> de::VariantAccess<'de> for EnumTracer<'_> {
    type Error = TraceError;

    fn unit_variant(mut self) -> Result<(), TraceError> {
        self.record(VariantShape::Unit);
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        mut self,
        seed: T,
    ) -> Result<T::Value, TraceError> {
        let value = seed.deserialize(self.tracer.child())?;
        let node = self.tracer.state.last.take().unwrap_or(Node::Prim("?"));
        self.record(VariantShape::Newtype(node));
        Ok(value)
    }

    fn tuple_variant<V: Visitor<'de>>(
        mut self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let (value, nodes) = self.tracer.child().visit_seq(Some(len), visitor)?;
        self.record(VariantShape::Tuple(nodes));
        Ok(value)
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let (value, nodes) = self.tracer.child().visit_seq(Some(fields.len()), visitor)?;
        self.record(VariantShape::Struct(
            fields.iter().copied().zip(nodes).collect(),
        ));
        Ok(value)
    }
}
