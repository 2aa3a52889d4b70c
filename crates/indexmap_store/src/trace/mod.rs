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

use serde::de::{self, Visitor};

use self::access::SeqTracer;

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
    /// The sample integer: 0, or 1 on a second try (for types such as
    /// `NonZeroU32` that refuse 0).
    one: bool,
}

/// Traces `T`'s shape through its `Deserialize` impl: with 0 for every
/// integer, then, if the type refuses a sample, with 1.
pub(crate) fn trace<T: de::DeserializeOwned>() -> Result<Traced, TraceError> {
    match trace_with::<T>(false) {
        Err(TraceError::Rejected(_)) => trace_with::<T>(true),
        traced => traced,
    }
}

fn trace_with<T: de::DeserializeOwned>(one: bool) -> Result<Traced, TraceError> {
    let mut state = State {
        one,
        ..State::default()
    };
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

/// The deserializer handed to a `Deserialize` impl: the shared state and
/// how deep in the type it is.
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

mod access;
mod requests;
