//! Exact order statistics in one pass, without sorting or copying the input.
//!
//! A strided sample predicts where each wanted order statistic lies. One pass then counts every element into
//! equal-width buckets over the sample's bulk range and, in the same read, gathers only the elements of buckets that
//! the predictions marked (and folds any other per-element statistic the caller needs). Exact prefix counts then say
//! which bucket holds each rank; a selection inside that small bucket finishes. A wrong prediction costs one more
//! gathering pass, never a wrong answer: the only property used is that `bucket(x) < bucket(y)` implies `x < y`.

use super::parallel::{map_chunks, threads_for};
use super::sample::Sample;

const MAX_LOG2_BUCKETS: u32 = 13;
const NO_SLOT: u32 = u32::MAX;
/// Elements converted and processed together: small enough to stay in L1 for the fold's second look.
const BLOCK: usize = 2048;
/// Elements in the strided sample that predicts the positions of order statistics.
const SAMPLE: usize = 32_768;

/// A statistic folded into the counting pass, a cache-sized block of elements at a time.
pub trait Fold: Clone + Send + Sync {
    /// `raw` holds the elements starting at index `start` of the data.
    fn add_block(&mut self, start: usize, raw: &[f64]);
    /// Combine with the fold of the chunk that follows this one.
    fn merge(&mut self, later: Self);
}

impl Fold for () {
    #[inline(always)]
    fn add_block(&mut self, _: usize, _: &[f64]) {}
    fn merge(&mut self, _: Self) {}
}

/// A sorted strided sample of the data, used to predict where order statistics and other values lie.
pub struct Sketch {
    sorted: Vec<f64>,
    n: usize,
}

impl Sketch {
    pub fn new<T: Sample>(data: &[T]) -> Sketch {
        let step = (data.len() / SAMPLE).max(1);
        let mut sorted: Vec<f64> =
            data.iter().step_by(step).map(|x| x.to_f64()).filter(|v| v.is_finite()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        Sketch { sorted, n: data.len() }
    }

    /// Where the bulk of the data lies: the sample's 0.05% and 99.95% points (its extremes if those coincide).
    pub fn bulk(&self) -> (f64, f64) {
        let s = &self.sorted;
        if s.is_empty() {
            return (0.0, 0.0);
        }
        let k = s.len() / 2000;
        if s[s.len() - 1 - k] > s[k] {
            (s[k], s[s.len() - 1 - k])
        } else {
            (s[0], s[s.len() - 1])
        }
    }

    /// Sample ranks either side of a prediction at sample position `pos`: three and a half standard
    /// deviations of the sample quantile there, so a miss (which costs a second pass) is rare (about 5 in 10,000).
    fn margin(&self, pos: isize) -> isize {
        let s = self.sorted.len() as f64;
        let p = (pos as f64 / s).clamp(0.0, 1.0);
        (3.5 * (s * p * (1.0 - p)).sqrt()) as isize + 3
    }

    fn at(&self, i: isize) -> f64 {
        if i < 0 {
            f64::NEG_INFINITY
        } else if i as usize >= self.sorted.len() {
            f64::INFINITY
        } else {
            self.sorted[i as usize]
        }
    }

    /// The estimate of the element at 0-based `rank` of the full data.
    pub fn value_at_rank(&self, rank: usize) -> f64 {
        let s = self.sorted.len();
        if s == 0 {
            return 0.0;
        }
        let pos = (rank as f64 * (s - 1) as f64 / (self.n.max(2) - 1) as f64).round() as isize;
        self.at(pos)
    }

    /// Values that very probably bracket the element at 0-based `rank` of the full data.
    pub fn rank_zone(&self, rank: usize) -> (f64, f64) {
        let s = self.sorted.len();
        if s == 0 {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let pos = (rank as f64 * (s - 1) as f64 / (self.n.max(2) - 1) as f64).round() as isize;
        let m = self.margin(pos);
        (self.at(pos - m), self.at(pos + m))
    }

    /// Values that very probably bracket the data's elements near `v` (its rank, plus or minus the margin).
    pub fn value_zone(&self, v: f64) -> (f64, f64) {
        let pos = self.sorted.partition_point(|&x| x < v) as isize;
        let m = self.margin(pos);
        (self.at(pos - m), self.at(pos + m))
    }

    /// The sample's middle element (a good shift for sums of squares).
    pub fn middle(&self) -> f64 {
        self.sorted.get(self.sorted.len() / 2).copied().unwrap_or(0.0)
    }

    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }
}

/// Exact bucket counts of the data plus the elements of some buckets.
pub struct Scan {
    lo: f64,
    scale: f64,
    /// The last bucket's index as a float.
    top: f64,
    buckets: usize,
    /// `below[b]`: elements in buckets before `b`.
    below: Vec<usize>,
    /// For each bucket, the slot of its gathered elements, or `NO_SLOT`.
    slot_of: Vec<u32>,
    /// Gathered elements, bucket by bucket: slot `k` is `store[spans[k].0..spans[k].1]`.
    store: Vec<f64>,
    spans: Vec<(usize, usize)>,
    /// Passes over the data so far (1 when every prediction held).
    passes: usize,
}

impl Scan {
    /// Monotone in `v`: subtraction and scaling by a positive constant preserve order, and so do the clamps (NaN
    /// goes to bucket 0).
    #[inline(always)]
    pub fn bucket(&self, v: f64) -> usize {
        let f = ((v - self.lo) * self.scale).max(0.0).min(self.top);
        // SAFETY: `f` is finite and within [0, buckets - 1] after the clamps (`max` maps NaN to 0).
        unsafe { f.to_int_unchecked::<u32>() as usize }
    }

    /// Passes over the data so far (1 when every prediction held).
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// Elements in buckets `0..b`.
    pub fn below(&self, b: usize) -> usize {
        self.below[b]
    }

    /// One pass: count every element over `[lo, hi]`, gather those in buckets that meet any of `zones`, and fold
    /// every element into a copy of `init` per chunk.
    pub fn run<T: Sample, F: Fold>(
        data: &[T],
        lo: f64,
        hi: f64,
        zones: &[(f64, f64)],
        init: &F,
    ) -> (Scan, F) {
        let log2 = (usize::BITS - (data.len() / 4).leading_zeros()).clamp(8, MAX_LOG2_BUCKETS);
        let buckets = 1usize << log2;
        let width = hi - lo;
        let scale = if width > 0.0 { buckets as f64 / width } else { 0.0 };
        let scale = if scale.is_finite() { scale } else { 0.0 };
        let lo = if lo.is_finite() { lo } else { 0.0 };
        let mut scan = Scan {
            lo,
            scale,
            top: (buckets - 1) as f64,
            buckets,
            below: Vec::new(),
            slot_of: vec![NO_SLOT; buckets],
            store: Vec::new(),
            spans: Vec::new(),
            passes: 1,
        };
        let mut wanted = Vec::new();
        for &(a, b) in zones {
            if a <= b {
                wanted.extend(scan.bucket(a)..=scan.bucket(b));
            }
        }
        let marks = scan.mark(&wanted);
        let scan_ref = &scan;
        let parts = map_chunks(data, threads_for(data.len()), |chunk| {
            let offset = (chunk.as_ptr() as usize - data.as_ptr() as usize) / std::mem::size_of::<T>();
            let mut counts = vec![0u32; buckets];
            let mut picked: Vec<f64> = Vec::new();
            let mut fold = init.clone();
            let mut raw = [0.0f64; BLOCK];
            let mut hits = [0.0f64; BLOCK];
            for (i, block) in chunk.chunks(BLOCK).enumerate() {
                let raw = &mut raw[..block.len()];
                for (r, x) in raw.iter_mut().zip(block) {
                    *r = x.to_f64();
                }
                // Branch-free: every element is written to the block's buffer, which advances only for marked ones.
                let mut n_hit = 0;
                for &v in raw.iter() {
                    let b = scan_ref.bucket(v);
                    // SAFETY: `bucket` returns < buckets = counts.len() <= 64 * marks.len(), and n_hit counts a
                    // subset of this block's elements, so n_hit < raw.len() <= BLOCK = hits.len().
                    unsafe {
                        *counts.get_unchecked_mut(b) += 1;
                        *hits.get_unchecked_mut(n_hit) = v;
                        n_hit += ((marks.get_unchecked(b / 64) >> (b % 64)) & 1) as usize;
                    }
                }
                picked.extend_from_slice(&hits[..n_hit]);
                fold.add_block(offset + i * BLOCK, raw);
            }
            (counts, picked, fold)
        });
        let mut below = vec![0usize; buckets + 1];
        let mut fold: Option<F> = None;
        let mut picked = Vec::with_capacity(parts.len());
        for (counts, p, f) in parts {
            for (b, c) in counts.iter().enumerate() {
                below[b + 1] += *c as usize;
            }
            picked.push(p);
            match &mut fold {
                None => fold = Some(f),
                Some(acc) => acc.merge(f),
            }
        }
        for b in 0..buckets {
            below[b + 1] += below[b];
        }
        scan.below = below;
        scan.place(&wanted, picked);
        (scan, fold.expect("at least one chunk"))
    }

    /// Bitmap of the buckets in `wanted` that are not gathered yet.
    fn mark(&self, wanted: &[usize]) -> Vec<u64> {
        let mut marks = vec![0u64; self.buckets.div_ceil(64)];
        for &b in wanted {
            if self.slot_of[b] == NO_SLOT {
                marks[b / 64] |= 1 << (b % 64);
            }
        }
        marks
    }

    /// Give the newly gathered buckets slots and lay their elements out bucket by bucket (a counting sort: the
    /// bucket sizes are known exactly).
    fn place(&mut self, wanted: &[usize], picked: Vec<Vec<f64>>) {
        let first = self.store.len();
        let mut end = first;
        for &b in wanted {
            if self.slot_of[b] == NO_SLOT {
                self.slot_of[b] = self.spans.len() as u32;
                let size = self.below[b + 1] - self.below[b];
                self.spans.push((end, end + size));
                end += size;
            }
        }
        self.store.resize(end, 0.0);
        let mut fill: Vec<usize> = self.spans.iter().map(|s| s.0).collect();
        for part in picked {
            for v in part {
                let slot = self.slot_of[self.bucket(v)] as usize;
                self.store[fill[slot]] = v;
                fill[slot] += 1;
            }
        }
    }

    /// Another pass that gathers the buckets in `wanted` that earlier passes did not (a prediction missed).
    pub fn gather<T: Sample>(&mut self, data: &[T], wanted: &[usize]) {
        let marks = self.mark(wanted);
        if marks.iter().all(|&m| m == 0) {
            return;
        }
        self.passes += 1;
        let scan = &*self;
        let picked = map_chunks(data, threads_for(data.len()), |chunk| {
            let mut picked: Vec<f64> = Vec::new();
            for x in chunk {
                let v = x.to_f64();
                let b = scan.bucket(v);
                if marks[b / 64] & (1 << (b % 64)) != 0 {
                    picked.push(v);
                }
            }
            picked
        });
        self.place(wanted, picked);
    }

    /// The elements of bucket `b`, gathering it first if no pass has.
    pub fn bin<T: Sample>(&mut self, data: &[T], b: usize) -> &[f64] {
        if self.slot_of[b] == NO_SLOT {
            self.gather(data, &[b]);
        }
        let (start, end) = self.spans[self.slot_of[b] as usize];
        &self.store[start..end]
    }

    /// The bucket holding 0-based `rank`, and the rank's position inside it.
    fn locate(&self, rank: usize) -> (usize, usize) {
        let b = self.below.partition_point(|&c| c <= rank) - 1;
        (b, rank - self.below[b])
    }

    /// Exact values at the 0-based `ranks` (any order, repeats allowed).
    pub fn values_at<T: Sample>(&mut self, data: &[T], ranks: &[usize]) -> Vec<f64> {
        let located: Vec<(usize, usize)> = ranks
            .iter()
            .map(|&r| {
                assert!(r < data.len(), "rank {r} out of range");
                self.locate(r)
            })
            .collect();
        let missing: Vec<usize> =
            located.iter().map(|&(b, _)| b).filter(|&b| self.slot_of[b] == NO_SLOT).collect();
        self.gather(data, &missing);
        let mut by_bucket: Vec<(usize, usize, usize)> =
            located.iter().enumerate().map(|(i, &(b, local))| (b, local, i)).collect();
        by_bucket.sort_unstable();
        let mut out = vec![0.0; ranks.len()];
        let mut i = 0;
        while i < by_bucket.len() {
            let b = by_bucket[i].0;
            let j = i + by_bucket[i..].iter().take_while(|t| t.0 == b).count();
            let (start, end) = self.spans[self.slot_of[b] as usize];
            let mut bin = self.store[start..end].to_vec();
            let locals: Vec<usize> = by_bucket[i..j].iter().map(|t| t.1).collect();
            let values = select_many(&mut bin, &locals);
            for (k, t) in by_bucket[i..j].iter().enumerate() {
                out[t.2] = values[k];
            }
            i = j;
        }
        out
    }
}

/// Values at the sorted 0-based `ranks` of `v`, reordering `v`; each selection works on the part after the last.
pub fn select_many(v: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(ranks.len());
    let mut start = 0;
    let mut last: Option<(usize, f64)> = None;
    for &r in ranks {
        if let Some((lr, lv)) = last {
            if lr == r {
                out.push(lv);
                continue;
            }
        }
        let (_, x, _) = v[start..].select_nth_unstable_by(r - start, f64::total_cmp);
        let x = *x;
        out.push(x);
        last = Some((r, x));
        start = r + 1;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Data whose every sampled element is an outlier makes every prediction miss (for tests of the fallback).
    pub const SAMPLE_STRIDE_PROBE: usize = 300_000 / super::SAMPLE;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    fn check(data: &[f64], ranks: &[usize], zones: &[(f64, f64)]) {
        let mut s = data.to_vec();
        s.sort_unstable_by(f64::total_cmp);
        let want: Vec<f64> = ranks.iter().map(|&r| s[r]).collect();
        let sketch = Sketch::new(data);
        let (lo, hi) = sketch.bulk();
        let (mut scan, ()) = Scan::run(data, lo, hi, zones, &());
        assert_eq!(scan.values_at(data, ranks), want);
    }

    fn predicted(data: &[f64], ranks: &[usize]) -> Vec<(f64, f64)> {
        let sketch = Sketch::new(data);
        ranks.iter().map(|&r| sketch.rank_zone(r)).collect()
    }

    #[test]
    fn matches_sort_on_skewed_data() {
        let mut r = Rng::new(3);
        let data: Vec<f64> = (0..200_000).map(|_| 1e5 * (-r.unit().ln()) + 2e4).collect();
        let n = data.len();
        let ranks = [0, n / 2, n * 9 / 10, n * 99 / 100, n - 1, n / 2 + 1, 17];
        check(&data, &ranks, &predicted(&data, &ranks));
        check(&data, &ranks, &[]); // no prediction at all: a second pass gathers what is needed
    }

    #[test]
    fn negatives_ties_constant_and_tiny_inputs() {
        let mut r = Rng::new(4);
        let data: Vec<f64> = (0..20_000).map(|_| (r.below(50) as f64) - 25.0).collect();
        let ranks = [0, 1, 9_999, 10_000, 19_999];
        check(&data, &ranks, &predicted(&data, &ranks));
        check(&[3.25; 10_000], &[0, 5_000, 9_999], &[]);
        check(&[2.0], &[0, 0], &[]);
        check(&[2.0, -1.0, 7.5], &[2, 0, 1], &[]);
    }

    #[test]
    fn an_unrepresentative_sample_still_gives_exact_answers() {
        // Every sampled element is an outlier: the predictions and the bucket range are both wrong.
        let n = 400_000;
        let step = n / SAMPLE;
        let data: Vec<f64> =
            (0..n).map(|i| if i % step == 0 { 1e9 + i as f64 } else { (i % 1013) as f64 }).collect();
        let ranks = [0, 1, n / 2, n - 2, n - 1];
        check(&data, &ranks, &predicted(&data, &ranks));
    }

    #[test]
    fn survives_a_huge_outlier() {
        let mut data: Vec<f64> = (0..30_000).map(|i| 1.0 + i as f64 * 1e-9).collect();
        data.push(1e300);
        let ranks = [0, 15_000, 29_999, 30_000];
        check(&data, &ranks, &predicted(&data, &ranks));
    }

    #[test]
    fn folds_see_every_element_once() {
        #[derive(Clone, Default)]
        struct Sum(f64, usize);
        impl Fold for Sum {
            fn add_block(&mut self, start: usize, raw: &[f64]) {
                self.0 += raw.iter().sum::<f64>();
                self.1 = self.1.max(start + raw.len() - 1);
            }
            fn merge(&mut self, later: Self) {
                self.0 += later.0;
                self.1 = self.1.max(later.1);
            }
        }
        let data: Vec<i64> = (0..1_100_000).map(|i| (i * 7919) % 10_007).collect();
        let (_, sum) = Scan::run(&data, 0.0, 10_007.0, &[], &Sum::default());
        assert_eq!(sum.0, data.iter().sum::<i64>() as f64);
        assert_eq!(sum.1, data.len() - 1);
    }

    #[test]
    fn select_many_handles_repeats() {
        let mut v: Vec<f64> = (0..100).rev().map(|i| i as f64).collect();
        assert_eq!(select_many(&mut v, &[0, 0, 5, 50, 99]), vec![0.0, 0.0, 5.0, 50.0, 99.0]);
    }
}
