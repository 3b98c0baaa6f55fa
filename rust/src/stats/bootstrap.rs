//! Seeded percentile-bootstrap intervals for the mean and the median.
//!
//! A resample of n draws is kept as counts per sorted sample, so one O(n) scan gives both its mean and its median
//! (no sort or selection per resample). Resamples run in fixed blocks with their own streams, so the result depends on
//! the seed only, not on how many threads ran.

use super::parallel::{map_jobs, threads_for};
use super::rng::Rng;
use super::{lerp, Interval};

const BLOCK: usize = 32;

/// Percentile-bootstrap intervals `(mean, median)` at `confidence` from `resamples` resamples of `sorted`.
pub fn mean_median_intervals(
    sorted: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> (Interval, Interval) {
    let n = sorted.len();
    let blocks = resamples.div_ceil(BLOCK);
    let threads = threads_for(n * resamples / 4);
    let results = map_jobs(blocks, threads, |block| {
        let mut rng = Rng::for_job(seed, block as u64);
        let mut counts = vec![0u32; n];
        let todo = BLOCK.min(resamples - block * BLOCK);
        let mut out = Vec::with_capacity(todo);
        for _ in 0..todo {
            counts.iter_mut().for_each(|c| *c = 0);
            for _ in 0..n {
                counts[rng.below(n)] += 1;
            }
            out.push(mean_and_median(sorted, &counts));
        }
        out
    });
    let (mut means, mut medians): (Vec<f64>, Vec<f64>) = results.into_iter().flatten().unzip();
    (percentile_interval(&mut means, confidence), percentile_interval(&mut medians, confidence))
}

/// Mean and (numpy-linear) median of the resample that takes `counts[i]` copies of `sorted[i]`.
fn mean_and_median(sorted: &[f64], counts: &[u32]) -> (f64, f64) {
    let n = sorted.len();
    let h = (n - 1) as f64 * 0.5;
    let lo_rank = h.floor() as usize;
    let hi_rank = (lo_rank + 1).min(n - 1);
    let (mut sum, mut seen) = (0.0, 0usize);
    let (mut lo_val, mut hi_val) = (f64::NAN, f64::NAN);
    for (x, &c) in sorted.iter().zip(counts) {
        if c == 0 {
            continue;
        }
        sum += c as f64 * x;
        let next = seen + c as usize;
        if seen <= lo_rank && lo_rank < next {
            lo_val = *x;
        }
        if seen <= hi_rank && hi_rank < next {
            hi_val = *x;
        }
        seen = next;
    }
    (sum / n as f64, lerp(lo_val, hi_val, h - lo_rank as f64))
}

fn percentile_interval(values: &mut [f64], confidence: f64) -> Interval {
    values.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| {
        let h = (values.len() - 1) as f64 * q;
        let lo = h.floor() as usize;
        lerp(values[lo], values[(lo + 1).min(values.len() - 1)], h - lo as f64)
    };
    Interval { low: at(tail), high: at(1.0 - tail), method: "bootstrap" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_seeded_and_contain_the_estimate() {
        let mut r = Rng::new(9);
        let mut data: Vec<f64> = (0..2_000).map(|_| r.unit() * 10.0).collect();
        data.sort_unstable_by(f64::total_cmp);
        let (m1, d1) = mean_median_intervals(&data, 500, 0.95, 42);
        let (m2, d2) = mean_median_intervals(&data, 500, 0.95, 42);
        assert_eq!((m1.low, m1.high, d1.low, d1.high), (m2.low, m2.high, d2.low, d2.high));
        let mean = data.iter().sum::<f64>() / data.len() as f64;
        assert!(m1.low < mean && mean < m1.high);
        // Standard error of the mean of U(0, 10) over 2,000 samples is ~0.065: the 95% interval is ~±0.13.
        assert!((m1.high - m1.low) > 0.15 && (m1.high - m1.low) < 0.4, "{m1:?}");
        assert!(d1.low < 5.3 && d1.high > 4.7);
        let (m3, _) = mean_median_intervals(&data, 500, 0.95, 43);
        assert_ne!(m1.low, m3.low);
    }

    #[test]
    fn resample_mean_and_median() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean_and_median(&sorted, &[1, 1, 1, 1]), (2.5, 2.5));
        assert_eq!(mean_and_median(&sorted, &[0, 0, 4, 0]), (3.0, 3.0));
        assert_eq!(mean_and_median(&sorted, &[3, 0, 0, 1]), (1.75, 1.0));
    }
}
