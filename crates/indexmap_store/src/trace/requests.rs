//! The tracer's answers to each `deserialize_*` request.

use serde::de::{Deserializer, Visitor};

use super::access::{EnumTracer, MapTracer};
use super::{Node, TraceError, Tracer, VariantShape};

fn key_of(kind: &str, name: &str, parts: &[&str]) -> String {
    format!("{kind} {name} {}", parts.join(","))
}

/// Primitive requests: record the primitive, answer with a sample value.
macro_rules! prims {
    ($one:ident; $($method:ident $visit:ident $name:literal $value:expr;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            #[allow(unused_variables)]
            let $one = self.state.one;
            let value = $value;
            self.prim($name, || visitor.$visit(value))
        })*
    };
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = TraceError;

    prims! {
        one;
        deserialize_bool visit_bool "bool" false;
        deserialize_i8 visit_i8 "i8" one.into();
        deserialize_i16 visit_i16 "i16" one.into();
        deserialize_i32 visit_i32 "i32" one.into();
        deserialize_i64 visit_i64 "i64" one.into();
        deserialize_i128 visit_i128 "i128" one.into();
        deserialize_u8 visit_u8 "u8" one.into();
        deserialize_u16 visit_u16 "u16" one.into();
        deserialize_u32 visit_u32 "u32" one.into();
        deserialize_u64 visit_u64 "u64" one.into();
        deserialize_u128 visit_u128 "u128" one.into();
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
