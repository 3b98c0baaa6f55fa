//! Latency statistics: moments, exact quantiles equal to `numpy.percentile(..., method="linear")`,
//! order-statistic confidence intervals, bootstrap intervals, MAD and Tukey-fence outlier counts.

pub mod binomial;
mod bootstrap;
mod parallel;
pub mod rng;
mod sample;
mod select;

pub use sample::Sample;

use crate::errors::{invalid, Error, Result};
use select::{select_many, Fold, Scan, Sketch};

/// A two-sided interval and how it was obtained.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(frozen, get_all, eq, module = "mcm._core"))]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// "bootstrap", "normal" or "order-statistic".
    pub method: &'static str,
}

/// One requested quantile.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(frozen, get_all, eq, module = "mcm._core"))]
pub struct QuantileEstimate {
    /// The quantile in percent (99.9 for p99.9).
    pub percent: f64,
    /// Exactly what `numpy.percentile(samples, percent, method="linear")` gives.
    pub value: f64,
    /// Order-statistic interval; an end is `None` when the samples are too few to bound it.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Samples needed for both ends to exist at the run's confidence.
    pub min_samples: usize,
}

impl QuantileEstimate {
    /// True when both ends of the interval exist.
    pub fn enough(&self) -> bool {
        self.ci_low.is_some() && self.ci_high.is_some()
    }
}

/// Tukey fences at 1.5 (mild) and 3 (severe) interquartile ranges. Outliers are counted, never dropped.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(frozen, get_all, eq, module = "mcm._core"))]
pub struct Outliers {
    pub q1: f64,
    pub q3: f64,
    pub low_severe: usize,
    pub low_mild: usize,
    pub high_mild: usize,
    pub high_severe: usize,
}

impl Outliers {
    /// `[low severe, low mild, high mild, high severe]`: 3 and 1.5 interquartile ranges beyond the quartiles.
    pub fn fences(&self) -> [f64; 4] {
        let iqr = self.q3 - self.q1;
        [self.q1 - 3.0 * iqr, self.q1 - 1.5 * iqr, self.q3 + 1.5 * iqr, self.q3 + 3.0 * iqr]
    }
}

/// Everything `summarize` finds in one set of samples.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(frozen, get_all, eq, module = "mcm._core"))]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); 0 for one sample.
    pub std: f64,
    pub min: f64,
    pub max: f64,
    pub median: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// Coefficient of variation, std / mean (`None` when the mean is 0).
    pub cv: Option<f64>,
    pub quantiles: Vec<QuantileEstimate>,
    pub mean_ci: Interval,
    pub median_ci: Interval,
    pub outliers: Outliers,
    pub confidence: f64,
    /// Passes made over the samples: 1 unless a predicted position missed (then the answer is still exact).
    pub passes: usize,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Quantiles in percent, each in [0, 100]; none by default (the caller names them: mcm's list is in Python).
    pub quantiles: Vec<f64>,
    pub confidence: f64,
    /// Bootstrap resamples for the mean and median intervals (0: analytic intervals only).
    pub bootstrap: usize,
    /// Above this many samples the analytic intervals are used instead (they are then as good, and far cheaper).
    pub bootstrap_max_n: usize,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { quantiles: Vec::new(), confidence: 0.95, bootstrap: 1000, bootstrap_max_n: 10_000, seed: 0 }
    }
}

/// numpy's `_lerp`: exact at both ends, and the same rounding as numpy for every `t`.
#[inline]
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// The 0-based ranks that numpy's linear method interpolates between, and the weight of the upper one.
fn linear_ranks(n: usize, percent: f64) -> (usize, usize, f64) {
    let virtual_index = (n - 1) as f64 * (percent / 100.0);
    let below = virtual_index.floor();
    let gamma = virtual_index - below;
    let lo = (below as usize).min(n - 1);
    (lo, (lo + 1).min(n - 1), gamma)
}

/// Folded into the pass: shifted first and second moments, and the first non-finite element.
#[derive(Clone)]
struct Moments {
    /// Sums are of `x - shift` (a value near the data) so the variance does not lose precision.
    shift: f64,
    sum: f64,
    sum_sq: f64,
    bad: Option<(usize, f64)>,
}

impl Moments {
    fn new(shift: f64) -> Self {
        Moments { shift, sum: 0.0, sum_sq: 0.0, bad: None }
    }
}

impl Fold for Moments {
    #[inline]
    fn add_block(&mut self, start: usize, raw: &[f64]) {
        // Four independent lanes so the compiler vectorizes; NaN is caught by the sum and located only then.
        let c = self.shift;
        let (mut sum, mut sq) = ([0.0f64; 4], [0.0f64; 4]);
        let mut quads = raw.chunks_exact(4);
        for q in &mut quads {
            for k in 0..4 {
                let d = q[k] - c;
                sum[k] += d;
                sq[k] += d * d;
            }
        }
        for &v in quads.remainder() {
            sum[0] += v - c;
            sq[0] += (v - c) * (v - c);
        }
        let s = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        if !s.is_finite() && self.bad.is_none() {
            self.bad = raw.iter().position(|v| !v.is_finite()).map(|i| (start + i, raw[i]));
        }
        self.sum += s;
        self.sum_sq += (sq[0] + sq[1]) + (sq[2] + sq[3]);
    }
    fn merge(&mut self, later: Self) {
        self.sum += later.sum;
        self.sum_sq += later.sum_sq;
        self.bad = self.bad.or(later.bad);
    }
}

/// Gathers the ranks to select, in one list, and remembers where each asked value sits in it.
#[derive(Default)]
struct Ranks(Vec<usize>);

impl Ranks {
    fn add(&mut self, rank: usize) -> usize {
        self.0.push(rank);
        self.0.len() - 1
    }
    /// numpy's linear interpolation points for `percent`: (index of lower, index of upper, weight).
    fn linear(&mut self, n: usize, percent: f64) -> (usize, usize, f64) {
        let (lo, hi, g) = linear_ranks(n, percent);
        (self.add(lo), self.add(hi), g)
    }
    /// The order-statistic interval ends (1-based ranks from the binomial bound), where they exist.
    fn interval(&mut self, n: usize, percent: f64, confidence: f64) -> (Option<usize>, Option<usize>) {
        let (l, u) = binomial::quantile_ci_ranks(n, percent / 100.0, confidence);
        (l.map(|r| self.add(r - 1)), u.map(|r| self.add(r - 1)))
    }
}

/// Where the fences `q1 - k·IQR` and `q3 + k·IQR` (k = 3, 1.5) can lie, given zones for q1 and q3.
fn fence_zones((a1, b1): (f64, f64), (a3, b3): (f64, f64)) -> Vec<(f64, f64)> {
    let mut zones = Vec::new();
    for k in [3.0, 1.5] {
        zones.push(((1.0 + k) * a1 - k * b3, (1.0 + k) * b1 - k * a3));
        zones.push(((1.0 + k) * a3 - k * b1, (1.0 + k) * b3 - k * a1));
    }
    zones.retain(|(a, b)| a.is_finite() && b.is_finite());
    zones
}

/// Elements strictly below and strictly above `f`, from the bucket counts and the one bucket that holds `f`.
fn count_outside<T: Sample>(scan: &mut Scan, data: &[T], f: f64) -> (usize, usize) {
    let b = scan.bucket(f);
    let (below, above) = (scan.below(b), data.len() - scan.below(b + 1));
    let bin = scan.bin(data, b);
    (below + bin.iter().filter(|&&x| x < f).count(), above + bin.iter().filter(|&&x| x > f).count())
}

/// The median absolute deviation from `m`, exactly, from the scan's counts and a few gathered buckets.
///
/// For a spread `d`, buckets that only touch `[m - d, m + d]` bound from above how many deviations are `≤ d`, buckets
/// wholly inside bound it from below. Bisection finds `d_lo < MAD ≤ d_hi`; the elements that can decide the MAD lie
/// in the buckets between `m ± d_lo` and `m ± d_hi`, and every element between those zones ranks below them.
fn mad<T: Sample>(scan: &mut Scan, data: &[T], m: f64, min: f64, max: f64) -> f64 {
    let n = data.len();
    let (lo_rank, hi_rank, g) = linear_ranks(n, 50.0);
    let max_dev = (max - m).max(m - min);
    let touching = |s: &Scan, d: f64| s.below(s.bucket(m + d) + 1) - s.below(s.bucket(m - d));
    let inside = |s: &Scan, d: f64| {
        let (a, b) = (s.bucket(m - d) + 1, s.bucket(m + d));
        if b > a {
            s.below(b) - s.below(a)
        } else {
            0
        }
    };
    let d_lo =
        (touching(scan, 0.0) <= lo_rank).then(|| bisect(0.0, max_dev, |d| touching(scan, d) <= lo_rank));
    let d_hi = if inside(scan, max_dev) > hi_rank {
        let first_false = bisect(0.0, max_dev, |d| inside(scan, d) <= hi_rank);
        if inside(scan, first_false) > hi_rank {
            first_false
        } else {
            next_up(first_false)
        }
    } else {
        max_dev
    };
    let (left_end, right_start) = match d_lo {
        Some(d) => (scan.bucket(m - d), scan.bucket(m + d)),
        None => (scan.bucket(m), scan.bucket(m)),
    };
    let (left_start, right_end) = (scan.bucket(m - d_hi), scan.bucket(m + d_hi));
    let (inner, buckets): (usize, Vec<usize>) = if right_start <= left_end + 1 {
        (0, (left_start..=right_end).collect())
    } else {
        (
            scan.below(right_start) - scan.below(left_end + 1),
            (left_start..=left_end).chain(right_start..=right_end).collect(),
        )
    };
    scan.gather(data, &buckets);
    let mut dev: Vec<f64> = Vec::new();
    for &b in &buckets {
        dev.extend(scan.bin(data, b).iter().map(|x| (x - m).abs()));
    }
    let v = select_many(&mut dev, &[lo_rank - inner, hi_rank - inner]);
    lerp(v[0], v[1], g)
}

/// The largest `x` in `[lo, hi]` with `pred(x)` true, for a `pred` that is true at `lo` and then false once false.
fn bisect(mut lo: f64, mut hi: f64, pred: impl Fn(f64) -> bool) -> f64 {
    if pred(hi) {
        return hi;
    }
    for _ in 0..200 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if pred(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

fn next_up(x: f64) -> f64 {
    if x >= 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

fn check_percent(p: f64) -> Result<()> {
    if (0.0..=100.0).contains(&p) {
        Ok(())
    } else {
        invalid(format!("quantiles are percentages in [0, 100] (99.9 means p99.9), got {p}"))
    }
}

/// Everything the latency report needs, in one pass over `data` (never copied or reordered) in the common case.
pub fn summarize<T: Sample>(data: &[T], opts: &Options) -> Result<Summary> {
    binomial::check_confidence(opts.confidence)?;
    for &p in &opts.quantiles {
        check_percent(p)?;
    }
    let n = data.len();
    if n == 0 {
        return Err(Error::Empty);
    }

    // Every order statistic needed: each quantile's two neighbours and interval ends, the median and quartiles.
    let mut ranks = Ranks::default();
    let (min_at, max_at) = (ranks.add(0), ranks.add(n - 1));
    let median_at = ranks.linear(n, 50.0);
    let q1_at = ranks.linear(n, 25.0);
    let q3_at = ranks.linear(n, 75.0);
    let median_ci_at = ranks.interval(n, 50.0, opts.confidence);
    let per_quantile: Vec<_> = opts
        .quantiles
        .iter()
        .map(|&p| (p, ranks.linear(n, p), ranks.interval(n, p, opts.confidence)))
        .collect();

    // Predict where each of them, the MAD's deciding elements and the fences lie, then read the data once.
    let sketch = Sketch::new(data);
    let mut zones: Vec<(f64, f64)> = ranks.0.iter().map(|&r| sketch.rank_zone(r)).collect();
    let zone_of = |at: (usize, usize, f64)| {
        let (a, b) = (sketch.rank_zone(ranks.0[at.0]), sketch.rank_zone(ranks.0[at.1]));
        (a.0.min(b.0), a.1.max(b.1))
    };
    zones.extend(fence_zones(zone_of(q1_at), zone_of(q3_at)));
    let m_guess = sketch.value_at_rank(ranks.0[median_at.0]);
    let mut sample_dev: Vec<f64> = sketch.sorted().iter().map(|x| (x - m_guess).abs()).collect();
    if !sample_dev.is_empty() {
        let mid = sample_dev.len() / 2;
        let mad_guess = *sample_dev.select_nth_unstable_by(mid, f64::total_cmp).1;
        zones.push(sketch.value_zone(m_guess - mad_guess));
        zones.push(sketch.value_zone(m_guess + mad_guess));
    }
    let (lo, hi) = sketch.bulk();
    let (mut scan, m) = Scan::run(data, lo, hi, &zones, &Moments::new(sketch.middle()));
    if let Some((index, value)) = m.bad {
        return Err(Error::NonFinite { index, value });
    }
    let mean = m.shift + m.sum / n as f64;
    let std =
        if n > 1 { ((m.sum_sq - m.sum * m.sum / n as f64).max(0.0) / (n - 1) as f64).sqrt() } else { 0.0 };

    let values = scan.values_at(data, &ranks.0);
    let (min, max) = (values[min_at], values[max_at]);
    let interp = |(a, b, g): (usize, usize, f64)| lerp(values[a], values[b], g);
    let median = interp(median_at);
    let (q1, q3) = (interp(q1_at), interp(q3_at));
    let quantiles = per_quantile
        .into_iter()
        .map(|(p, point, (l, u))| QuantileEstimate {
            percent: p,
            value: interp(point),
            ci_low: l.map(|i| values[i]),
            ci_high: u.map(|i| values[i]),
            min_samples: if p > 0.0 && p < 100.0 {
                binomial::min_samples(p / 100.0, opts.confidence).unwrap_or(usize::MAX)
            } else {
                usize::MAX
            },
        })
        .collect();

    let mut outliers = Outliers { q1, q3, low_severe: 0, low_mild: 0, high_mild: 0, high_severe: 0 };
    let [f_ls, f_lm, f_hm, f_hs] = outliers.fences();
    let below_ls = count_outside(&mut scan, data, f_ls).0;
    let below_lm = count_outside(&mut scan, data, f_lm).0;
    let above_hm = count_outside(&mut scan, data, f_hm).1;
    let above_hs = count_outside(&mut scan, data, f_hs).1;
    outliers.low_severe = below_ls;
    outliers.low_mild = below_lm - below_ls;
    outliers.high_mild = above_hm - above_hs;
    outliers.high_severe = above_hs;

    let mad = mad(&mut scan, data, median, min, max);
    let median_ci = match median_ci_at {
        (Some(l), Some(u)) => Interval { low: values[l], high: values[u], method: "order-statistic" },
        _ => Interval { low: median, high: median, method: "too-few-samples" },
    };
    let (mean_ci, median_ci) = intervals(data, n, mean, std, median_ci, opts);
    Ok(Summary {
        count: n,
        mean,
        std,
        min,
        max,
        median,
        mad,
        cv: if mean != 0.0 { Some(std / mean.abs()) } else { None },
        quantiles,
        mean_ci,
        median_ci,
        outliers,
        confidence: opts.confidence,
        passes: scan.passes(),
    })
}

/// Bootstrap intervals for small runs; for large ones the normal interval of the mean and the order-statistic
/// interval of the median (both accurate there, and O(n) instead of O(n × resamples)).
fn intervals<T: Sample>(
    data: &[T],
    n: usize,
    mean: f64,
    std: f64,
    median_ci: Interval,
    opts: &Options,
) -> (Interval, Interval) {
    if opts.bootstrap > 0 && n >= 2 && n <= opts.bootstrap_max_n {
        let mut sorted: Vec<f64> = data.iter().map(|x| x.to_f64()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        return bootstrap::mean_median_intervals(&sorted, opts.bootstrap, opts.confidence, opts.seed);
    }
    let z = binomial::normal_quantile(1.0 - (1.0 - opts.confidence) / 2.0);
    let half = z * std / (n as f64).sqrt();
    (Interval { low: mean - half, high: mean + half, method: "normal" }, median_ci)
}

/// A single quantile and its order-statistic interval: `(value, low, high)`. Used for early stopping.
pub fn quantile_ci<T: Sample>(
    data: &[T],
    percent: f64,
    confidence: f64,
) -> Result<(f64, Option<f64>, Option<f64>)> {
    check_percent(percent)?;
    binomial::check_confidence(confidence)?;
    let n = data.len();
    if n == 0 {
        return Err(Error::Empty);
    }
    let mut ranks = Ranks::default();
    let point = ranks.linear(n, percent);
    let (l, u) = ranks.interval(n, percent, confidence);
    let sketch = Sketch::new(data);
    let zones: Vec<(f64, f64)> = ranks.0.iter().map(|&r| sketch.rank_zone(r)).collect();
    let (lo, hi) = sketch.bulk();
    let (mut scan, m) = Scan::run(data, lo, hi, &zones, &Moments::new(0.0));
    if let Some((index, value)) = m.bad {
        return Err(Error::NonFinite { index, value });
    }
    let v = scan.values_at(data, &ranks.0);
    Ok((lerp(v[point.0], v[point.1], point.2), l.map(|i| v[i]), u.map(|i| v[i])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rng::Rng;

    fn numpy_linear(sorted: &[f64], p: f64) -> f64 {
        let (lo, hi, g) = linear_ranks(sorted.len(), p);
        lerp(sorted[lo], sorted[hi], g)
    }

    /// The quantiles mcm reports (its list lives in Python, `mcm.metrics.PERCENTILES`).
    fn reported() -> Options {
        Options { quantiles: vec![50.0, 90.0, 95.0, 99.0, 99.9], ..Options::default() }
    }

    #[test]
    fn small_known_values() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 100.0], &reported()).unwrap();
        assert_eq!((s.count, s.min, s.max, s.median), (5, 1.0, 100.0, 3.0));
        assert_eq!(s.mean, 22.0);
        assert_eq!(s.mad, 1.0);
        assert_eq!(s.quantiles[0].value, 3.0);
        assert!((s.quantiles[1].value - 61.6).abs() < 1e-12); // numpy.percentile([1,2,3,4,100], 90)
        assert_eq!(s.outliers.high_severe, 1);
        assert_eq!(s.outliers.low_mild + s.outliers.low_severe + s.outliers.high_mild, 0);
        assert!(!s.quantiles[3].enough(), "5 samples cannot bound p99");
    }

    #[test]
    fn one_sample() {
        let s = summarize(&[7i64], &reported()).unwrap();
        assert_eq!((s.count, s.mean, s.std, s.median, s.mad), (1, 7.0, 0.0, 7.0, 0.0));
        assert!(s.quantiles.iter().all(|q| q.value == 7.0));
    }

    #[test]
    fn errors_are_clear() {
        assert_eq!(summarize::<f64>(&[], &Options::default()), Err(Error::Empty));
        let e = summarize(&[1.0, f64::NAN], &Options::default()).unwrap_err();
        assert!(matches!(e, Error::NonFinite { index: 1, .. }));
        let bad = Options { quantiles: vec![101.0], ..Options::default() };
        assert!(summarize(&[1.0], &bad).is_err());
        let bad = Options { confidence: 1.0, ..Options::default() };
        assert!(summarize(&[1.0], &bad).is_err());
    }

    #[test]
    fn large_input_matches_sorted_reference() {
        let mut r = Rng::new(11);
        let data: Vec<f64> =
            (0..300_000).map(|_| 5e4 + 3e4 * (-r.unit().ln()) + (r.below(7) as f64)).collect();
        let mut sorted = data.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let opts = Options { quantiles: vec![0.0, 50.0, 90.0, 99.0, 99.9, 100.0], ..Options::default() };
        let s = summarize(&data, &opts).unwrap();
        for q in &s.quantiles {
            assert_eq!(q.value, numpy_linear(&sorted, q.percent), "p{}", q.percent);
        }
        let median = numpy_linear(&sorted, 50.0);
        let mut dev: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
        dev.sort_unstable_by(f64::total_cmp);
        assert_eq!(s.mad, numpy_linear(&dev, 50.0));
        assert_eq!(s.mean_ci.method, "normal");
        assert_eq!(s.median_ci.method, "order-statistic");
        assert!(s.median_ci.low <= median && median <= s.median_ci.high);
    }

    /// Everything `summarize` reports, computed the slow, obvious way.
    fn reference(data: &[f64]) -> (Vec<f64>, f64, [usize; 4], f64) {
        let mut s = data.to_vec();
        s.sort_unstable_by(f64::total_cmp);
        let qs: Vec<f64> =
            [0.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 100.0].iter().map(|&p| numpy_linear(&s, p)).collect();
        let median = qs[2];
        let mut dev: Vec<f64> = s.iter().map(|x| (x - median).abs()).collect();
        dev.sort_unstable_by(f64::total_cmp);
        let (q1, q3) = (qs[1], qs[3]);
        let iqr = q3 - q1;
        let count = |pred: &dyn Fn(f64) -> bool| s.iter().filter(|&&x| pred(x)).count();
        let severe_lo = count(&|x| x < q1 - 3.0 * iqr);
        let mild_lo = count(&|x| x < q1 - 1.5 * iqr) - severe_lo;
        let severe_hi = count(&|x| x > q3 + 3.0 * iqr);
        let mild_hi = count(&|x| x > q3 + 1.5 * iqr) - severe_hi;
        (qs, numpy_linear(&dev, 50.0), [severe_lo, mild_lo, mild_hi, severe_hi], median)
    }

    #[test]
    fn matches_the_obvious_computation_across_shapes() {
        let opts = Options {
            quantiles: vec![0.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 100.0],
            bootstrap: 0,
            ..Options::default()
        };
        let n_step = crate::stats::select::tests_support::SAMPLE_STRIDE_PROBE;
        for seed in 0..12u64 {
            let mut r = Rng::new(seed);
            let n = [1usize, 2, 3, 10, 999, 5_000, 70_000, 300_000][seed as usize % 8];
            let data: Vec<f64> = (0..n)
                .map(|i| match seed % 4 {
                    0 => 5e4 + 3e4 * -(1.0 - r.unit()).ln(),
                    1 => (r.below(20) as f64) * 0.5 - 3.0,
                    2 => {
                        if i % n_step.max(1) == 0 {
                            1e12
                        } else {
                            1e3 + r.unit()
                        }
                    }
                    _ => (r.unit() - 0.5) * 1e-3 + if r.below(100) == 0 { 50.0 } else { 0.0 },
                })
                .collect();
            let s = summarize(&data, &opts).unwrap();
            let (qs, mad, tukey, median) = reference(&data);
            let got: Vec<f64> = s.quantiles.iter().map(|q| q.value).collect();
            assert_eq!(got, qs, "seed {seed} n {n}");
            assert_eq!(s.median, median);
            assert_eq!(s.mad, mad, "seed {seed} n {n}");
            let o = &s.outliers;
            assert_eq!([o.low_severe, o.low_mild, o.high_mild, o.high_severe], tukey, "seed {seed}");
            let mean = data.iter().sum::<f64>() / n as f64;
            assert!((s.mean - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{} vs {mean}", s.mean);
            if n > 1 {
                let var = data.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
                assert!(
                    (s.std - var.sqrt()).abs() <= 1e-7 * var.sqrt().max(1e-12),
                    "{} vs {}",
                    s.std,
                    var.sqrt()
                );
            }
        }
    }

    #[test]
    fn quantile_intervals_cover_the_true_quantile() {
        // Exponential(1): the p90 is ln(10). 500 seeded trials of 1,000 samples.
        let truth = 10f64.ln();
        let mut covered = 0;
        for trial in 0..500 {
            let mut r = Rng::new(1000 + trial);
            let data: Vec<f64> = (0..1000).map(|_| -(1.0 - r.unit()).ln()).collect();
            let (_, lo, hi) = quantile_ci(&data, 90.0, 0.95).unwrap();
            if lo.unwrap() <= truth && truth <= hi.unwrap() {
                covered += 1;
            }
        }
        assert!(covered >= 465, "covered {covered} of 500");
    }
}
