//! `store/reopen`: opening the N-entry compacted log, sequentially and
//! with decoding on a second thread, against a hand-written replay of the
//! same file (1 MiB reads, frame checks, bincode, `IndexMap::insert`) and
//! its parts on their own: reading and checking, that plus decoding, and
//! filling a map with pairs already decoded (issue 19).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use indexmap::IndexMap;
use indexmap_store::{IndexMapStore, OpenOptions};
use test_support::bench::{Group, Recorder, Scale, Target, selected};

use crate::fixture::{Fixture, Store};
use crate::mirror::{Collect, Sink, decode_pair, read_by_hand, reopen_by_hand};

/// `IndexMapStore::open` of the N-entry log vs [`reopen_by_hand`].
pub(crate) fn reopen(c: &mut Criterion, rec: &Recorder, fx: &Fixture, scale: Scale) {
    let mut g = Group::new(c, rec, "store/reopen");
    g.group.throughput(Throughput::Elements(fx.n));
    g.slow(scale);

    g.bench("floor_read_check_decode_insert", |iters| {
        let path = fx.loaded();
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            let map = reopen_by_hand(path);
            total += start.elapsed();
            assert_eq!(map.len() as u64, fx.n);
            drop(map);
        }
        total
    });

    // The parts of that floor on their own (issue 19): reading and
    // checking the frames; that and decoding each entry; filling a map
    // sized once with pairs already decoded (made untimed).
    struct Count(u64);
    impl Sink for Count {
        fn payload(&mut self, payload: &[u8]) {
            self.0 += payload.len() as u64;
        }
    }
    struct DecodeOnly(u64);
    impl Sink for DecodeOnly {
        fn payload(&mut self, payload: &[u8]) {
            let (k, v) = decode_pair(payload);
            self.0 += (k.len() + v.len()) as u64;
        }
    }
    g.bench("floor_read_check", |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            let mut count = Count(0);
            read_by_hand(fx.loaded(), &mut count);
            black_box(count.0);
        }
        start.elapsed()
    });
    g.bench("floor_read_check_decode", |iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            let mut decoded = DecodeOnly(0);
            read_by_hand(fx.loaded(), &mut decoded);
            total += start.elapsed();
            assert_eq!(decoded.0, fx.n * 116);
        }
        total
    });
    g.bench("floor_fill", |iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let mut pairs = Vec::with_capacity(usize::try_from(fx.n).unwrap());
            read_by_hand(fx.loaded(), &mut Collect(&mut pairs));
            let start = Instant::now();
            let mut map = IndexMap::with_capacity(pairs.len());
            for (k, v) in pairs {
                map.insert(k, v);
            }
            total += start.elapsed();
            assert_eq!(map.len() as u64, fx.n);
            drop(map);
        }
        total
    });

    // One open of the N-entry log, decoding on a second thread (issue 19;
    // 2 threads by default) if `threaded`.
    let open = |threaded: bool| -> Duration {
        let start = Instant::now();
        let store: Store = if threaded {
            OpenOptions::new().open_threaded(fx.loaded())
        } else {
            IndexMapStore::open(fx.loaded())
        }
        .unwrap();
        let elapsed = start.elapsed();
        assert_eq!(store.len() as u64, fx.n);
        elapsed
    };
    // One open first, on its own: one too slow to sample ten times is
    // reported as it is.
    let id = g.id("store_open");
    let mut sample = true;
    if rec.reports() && selected(&id) {
        let once = open(false);
        if once > scale.iter_budget() {
            rec.record(&id, once, 1);
            rec.note(
                &id,
                format!(
                    "not sampled: one open took {once:.1?}, over the {:.0?} budget \
                     (BENCH_MAX_ITER_SECS); that single run is the figure",
                    scale.iter_budget()
                ),
            );
            sample = false;
        }
    }
    if sample {
        for (id, threaded) in [("store_open", false), ("store_open_threaded", true)] {
            g.bench(id, |iters| (0..iters).map(|_| open(threaded)).sum());
        }
    }
    g.group.finish();
    rec.ratio(
        "store/reopen/store_open",
        &["store/reopen/floor_read_check_decode_insert"],
        Target::Throughput(0.7),
    );
    rec.ratio(
        "store/reopen/store_open_threaded",
        &["store/reopen/store_open"],
        Target::Throughput(2.0),
    );
    // Each part of the floor, and the threaded open against the sum of
    // reading, checking and decoding on one thread and filling the map on
    // the other (what two threads could at best overlap into the longer
    // of the two).
    for part in ["floor_read_check", "floor_read_check_decode", "floor_fill"] {
        rec.ratio(
            &format!("store/reopen/{part}"),
            &["store/reopen/floor_read_check_decode_insert"],
            Target::Reference,
        );
    }
    rec.ratio(
        "store/reopen/store_open_threaded",
        &[
            "store/reopen/floor_read_check_decode",
            "store/reopen/floor_fill",
        ],
        Target::Reference,
    );
}
