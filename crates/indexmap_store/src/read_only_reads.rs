//! [`ReadOnlyStore`]'s reads: the map's own lookups and iteration, at
//! its speed, the very methods of [`IndexMapStore`](crate::IndexMapStore)
//! (one macro, `read::map_reads`, writes both).

use std::hash::{BuildHasher, Hash};

use indexmap::{Equivalent, IndexMap};

use crate::ReadOnlyStore;
use crate::read::map_reads;

map_reads!(ReadOnlyStore<K, V, S>, [K, V, S], S);
