//! The tracer's sequence, map and enum access: how it hands out elements,
//! entries and variants, recording each one's shape.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::{Node, TraceError, Tracer, VariantShape};

/// Hands out `left` elements, recording each one's shape.
pub(super) struct SeqTracer<'s> {
    pub(super) tracer: Tracer<'s>,
    pub(super) left: usize,
    pub(super) nodes: Vec<Node>,
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

/// Hands out `left` entries (one, or none in shadow mode), recording the
/// key's and value's shapes.
pub(super) struct MapTracer<'s> {
    pub(super) tracer: Tracer<'s>,
    pub(super) left: usize,
    pub(super) key: Option<Node>,
    pub(super) entry: Option<(Node, Node)>,
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

/// Hands out variant `index` of the enum at registry `key`, recording its
/// content's shape.
pub(super) struct EnumTracer<'s> {
    pub(super) tracer: Tracer<'s>,
    pub(super) key: String,
    pub(super) index: usize,
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
