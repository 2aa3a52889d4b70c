//! `store/get`: lookups in the store against `IndexMap::get` of the same
//! keys (target: time ≤ 1.1×). Lookups through `SharedStore` are
//! `shared.rs`'s.

use std::cell::OnceCell;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::StoreConfig;
use test_support::bench::{Group, Recorder, Scale, Target};

use crate::fixture::{Fixture, Store, fresh_store, shuffled_keys, time_lookups};

/// Every key looked up once, in a shuffled order: the store vs an
/// `IndexMap`, both filled by inserting the same entries, in order, into an
/// empty map.
pub(crate) fn get(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/get");
    g.group.throughput(Throughput::Elements(fx.n));
    g.sampled(scale, Duration::from_secs(2), Duration::from_secs(3));
    let lookups: OnceCell<Vec<String>> = OnceCell::new();
    let lookups = || lookups.get_or_init(|| shuffled_keys(fx.data()));
    let map: OnceCell<IndexMap<String, String>> = OnceCell::new();
    let store: OnceCell<Store> = OnceCell::new();

    g.bench("floor_indexmap_get", |iters| {
        let map = map.get_or_init(|| {
            let mut map = IndexMap::new();
            for (k, v) in fx.data().clone() {
                map.insert(k, v);
            }
            map
        });
        time_lookups(iters, lookups(), |k| map.get(k))
    });

    g.bench("store_get", |iters| {
        let store = store.get_or_init(|| {
            let mut store = fresh_store(&fx.path("get.log"), StoreConfig::default());
            store.insert_many(fx.data().clone()).unwrap();
            store
        });
        time_lookups(iters, lookups(), |k| store.get(k))
    });
    g.group.finish();
    rec.ratio(
        "store/get/store_get",
        &["store/get/floor_indexmap_get"],
        Target::Time(1.1),
    );
}
