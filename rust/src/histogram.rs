//! A streaming, mergeable log-linear histogram in the HdrHistogram layout: values from `lowest` to `highest` are
//! kept to `sigfigs` significant decimal digits in a fixed array of counters, so runs too long to keep every
//! sample still give quantiles within a known relative error (≤ 0.05% at 3 digits when the bucket midpoint is read).

use crate::errors::{invalid, Error, Result};
use crate::stats::Sample;

const MAGIC: &[u8; 4] = b"MCMH";
const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 1 + 8 * 7;
/// Values stay exact as floats (and `+ 0.5` rounds them exactly) up to here.
const MAX_HIGHEST: u64 = 1 << 52;

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    lowest: u64,
    highest: u64,
    sigfigs: u8,
    unit_magnitude: u32,
    sub_half_magnitude: u32,
    sub_count: u64,
    sub_mask: u64,
    counts: Vec<u64>,
    total: u64,
    min: u64,
    max: u64,
    sum: u128,
}

impl Histogram {
    /// Track integers in `[0, highest]`, resolving `lowest` and keeping `sigfigs` (1–5) significant digits.
    pub fn new(lowest: u64, highest: u64, sigfigs: u8) -> Result<Self> {
        if lowest < 1 {
            return invalid("lowest discernible value must be at least 1");
        }
        if !(1..=5).contains(&sigfigs) {
            return invalid(format!("significant digits must be 1 to 5, got {sigfigs}"));
        }
        if highest > MAX_HIGHEST {
            return invalid(format!("highest must be at most 2^52 (about 52 days in ns), got {highest}"));
        }
        if highest < lowest.saturating_mul(2) {
            return invalid(format!("highest ({highest}) must be at least twice lowest ({lowest})"));
        }
        let single_unit = 2 * 10u64.pow(sigfigs as u32);
        let sub_count_magnitude = 64 - (single_unit - 1).leading_zeros(); // ceil(log2)
        let sub_half_magnitude = sub_count_magnitude.max(1) - 1;
        let unit_magnitude = 63 - lowest.leading_zeros(); // floor(log2)
        if unit_magnitude + sub_half_magnitude + 1 > 62 {
            return invalid("lowest value and precision are too large together");
        }
        let sub_count = 1u64 << (sub_half_magnitude + 1);
        let sub_mask = (sub_count - 1) << unit_magnitude;
        let mut smallest_untrackable = sub_count << unit_magnitude;
        let mut buckets = 1u64;
        while smallest_untrackable <= highest {
            if smallest_untrackable > u64::MAX / 2 {
                buckets += 1;
                break;
            }
            smallest_untrackable <<= 1;
            buckets += 1;
        }
        let len = ((buckets + 1) * (sub_count / 2)) as usize;
        Ok(Histogram {
            lowest,
            highest,
            sigfigs,
            unit_magnitude,
            sub_half_magnitude,
            sub_count,
            sub_mask,
            counts: vec![0; len],
            total: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
        })
    }

    pub fn lowest(&self) -> u64 {
        self.lowest
    }
    pub fn highest(&self) -> u64 {
        self.highest
    }
    pub fn sigfigs(&self) -> u8 {
        self.sigfigs
    }
    pub fn count(&self) -> u64 {
        self.total
    }
    pub fn min(&self) -> Option<u64> {
        (self.total > 0).then_some(self.min)
    }
    pub fn max(&self) -> Option<u64> {
        (self.total > 0).then_some(self.max)
    }
    /// Exact mean of the recorded values.
    pub fn mean(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum as f64 / self.total as f64)
    }

    #[inline(always)]
    fn index_of(&self, v: u64) -> usize {
        let base = 64 - self.unit_magnitude - self.sub_half_magnitude - 1;
        let bucket = base - (v | self.sub_mask).leading_zeros();
        let sub = (v >> (bucket + self.unit_magnitude)) as usize;
        // In bucket 0 `sub` may be below half the sub-bucket count: add before subtracting.
        (((bucket as usize + 1) << self.sub_half_magnitude) + sub) - (self.sub_count / 2) as usize
    }

    /// The smallest value that lands in counter `index`, and the width of its range.
    fn range_of(&self, index: usize) -> (u64, u64) {
        let half = (self.sub_count / 2) as usize;
        let mut bucket = (index >> self.sub_half_magnitude) as i64 - 1;
        let mut sub = (index & (half - 1)) + half;
        if bucket < 0 {
            sub -= half;
            bucket = 0;
        }
        let shift = bucket as u32 + self.unit_magnitude;
        ((sub as u64) << shift, 1u64 << shift)
    }

    fn check(&self, v: u64) -> Result<()> {
        if v > self.highest {
            return Err(Error::OutOfRange { index: 0, value: v as f64, lowest: 0, highest: self.highest });
        }
        Ok(())
    }

    /// Record `value` `times` times.
    pub fn record(&mut self, value: u64, times: u64) -> Result<()> {
        self.check(value)?;
        self.add(value, times);
        Ok(())
    }

    #[inline(always)]
    fn add(&mut self, value: u64, times: u64) {
        let i = self.index_of(value);
        self.counts[i] += times;
        self.total += times;
        self.sum += value as u128 * times as u128;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Record every value of `values` (rounded to integers), or none of them if any is negative, non-finite or
    /// above `highest`.
    pub fn record_all<T: Sample>(&mut self, values: &[T]) -> Result<()> {
        // Pass 1, branch-free so it vectorizes: are all values in range (NaN fails every comparison)?
        let top = self.highest as f64;
        let (mut ok, mut lo, mut hi) = (true, f64::INFINITY, f64::NEG_INFINITY);
        for x in values {
            let v = x.to_f64();
            ok &= v >= 0.0 && v <= top;
            lo = if v < lo { v } else { lo };
            hi = if v > hi { v } else { hi };
        }
        if !ok {
            let (index, value) = values
                .iter()
                .map(|x| x.to_f64())
                .enumerate()
                .find(|&(_, v)| !(v >= 0.0 && v <= top))
                .expect("a value failed the range check");
            if !value.is_finite() {
                return Err(Error::NonFinite { index, value });
            }
            return Err(Error::OutOfRange { index, value, lowest: 0, highest: self.highest });
        }
        if values.is_empty() {
            return Ok(());
        }
        // Pass 2: count. Values are ≥ 0, so `+ 0.5` then truncation rounds half away from zero like `f64::round`
        // (which is a library call on baseline x86-64).
        let mut sum = 0u128;
        for block in values.chunks(1024) {
            let mut block_sum = 0u64; // 1024 values ≤ 2^53 cannot overflow
            for x in block {
                // SAFETY: pass 1 showed 0 ≤ x ≤ highest ≤ 2^52, so x + 0.5 is finite and fits an i64, the rounded
                // value is ≤ highest, and the counters were sized to index `highest`.
                let v = unsafe { (x.to_f64() + 0.5).to_int_unchecked::<i64>() } as u64;
                let i = self.index_of(v);
                unsafe { *self.counts.get_unchecked_mut(i) += 1 };
                block_sum += v;
            }
            sum += block_sum as u128;
        }
        self.total += values.len() as u64;
        self.sum += sum;
        self.min = self.min.min((lo + 0.5) as u64);
        self.max = self.max.max((hi + 0.5) as u64);
        Ok(())
    }

    /// The value at `percent` (0–100): the midpoint of the counter range holding the nearest-rank sample, clamped
    /// to the recorded min and max. `None` when empty.
    pub fn quantile(&self, percent: f64) -> Result<Option<f64>> {
        if !(0.0..=100.0).contains(&percent) {
            return invalid(format!("quantiles are percentages in [0, 100], got {percent}"));
        }
        if self.total == 0 {
            return Ok(None);
        }
        let rank = ((percent / 100.0 * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (low, width) = self.range_of(i);
                let mid = low as f64 + (width as f64 - 1.0) / 2.0;
                return Ok(Some(mid.clamp(self.min as f64, self.max as f64)));
            }
        }
        Ok(Some(self.max as f64))
    }

    /// Non-empty counter ranges as `(lowest value, highest value, count)`, ascending.
    pub fn buckets(&self) -> Vec<(u64, u64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let (low, width) = self.range_of(i);
                (low, low + width - 1, c)
            })
            .collect()
    }

    /// Add `other`'s counts. Both must track the same range at the same precision.
    pub fn merge(&mut self, other: &Histogram) -> Result<()> {
        if (self.lowest, self.highest, self.sigfigs) != (other.lowest, other.highest, other.sigfigs) {
            return invalid(format!(
                "cannot merge histograms of different layouts: ({}, {}, {} digits) and ({}, {}, {} digits)",
                self.lowest, self.highest, self.sigfigs, other.lowest, other.highest, other.sigfigs
            ));
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }

    pub fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// A compact, versioned byte form: header, then counters as LEB128 varints with runs of zeros collapsed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 64);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(self.sigfigs);
        for v in [
            self.lowest,
            self.highest,
            self.total,
            self.min,
            self.max,
            self.sum as u64,
            (self.sum >> 64) as u64,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let mut i = 0;
        while i < self.counts.len() {
            let c = self.counts[i];
            if c == 0 {
                let run = self.counts[i..].iter().take_while(|&&x| x == 0).count();
                out.push(0);
                put_varint(&mut out, run as u64);
                i += run;
            } else {
                put_varint(&mut out, c);
                i += 1;
            }
        }
        out
    }

    /// Decode what `to_bytes` wrote. Untrusted input: every inconsistency is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let corrupt = |m: &str| Err(Error::Corrupt(m.to_string()));
        if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
            return corrupt("not an mcm histogram (bad magic or too short)");
        }
        if bytes[4] != FORMAT_VERSION {
            return Err(Error::Corrupt(format!("unsupported format version {}", bytes[4])));
        }
        let word = |k: usize| u64::from_le_bytes(bytes[6 + 8 * k..14 + 8 * k].try_into().unwrap());
        let (lowest, highest, total, min, max) = (word(0), word(1), word(2), word(3), word(4));
        let sum = word(5) as u128 | (word(6) as u128) << 64;
        let mut h = Histogram::new(lowest, highest, bytes[5]).map_err(|e| Error::Corrupt(e.to_string()))?;
        let mut pos = HEADER_LEN;
        let mut i = 0usize;
        let mut counted = 0u64;
        while pos < bytes.len() {
            let first = bytes[pos];
            if first == 0 {
                pos += 1;
                let run = get_varint(bytes, &mut pos)?;
                i = i
                    .checked_add(run as usize)
                    .filter(|&j| j <= h.counts.len())
                    .ok_or(Error::Corrupt("zero run past the end of the counters".into()))?;
            } else {
                let c = get_varint(bytes, &mut pos)?;
                if i >= h.counts.len() {
                    return corrupt("more counters than the layout has");
                }
                h.counts[i] = c;
                counted = counted.checked_add(c).ok_or(Error::Corrupt("count overflow".into()))?;
                i += 1;
            }
        }
        if counted != total {
            return Err(Error::Corrupt(format!("header says {total} values, counters hold {counted}")));
        }
        if total > 0 && (min > max || max > highest) {
            return corrupt("min/max inconsistent with the layout");
        }
        h.total = total;
        h.sum = sum;
        h.min = if total > 0 { min } else { u64::MAX };
        h.max = if total > 0 { max } else { 0 };
        Ok(h)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn get_varint(bytes: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let &b = bytes.get(*pos).ok_or(Error::Corrupt("truncated varint".into()))?;
        *pos += 1;
        v |= ((b & 0x7f) as u64).checked_shl(shift).unwrap_or(0);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Error::Corrupt("varint longer than 64 bits".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    fn hour_ns() -> Histogram {
        Histogram::new(1, 3_600_000_000_000, 3).unwrap()
    }

    #[test]
    fn every_value_lands_in_a_range_that_holds_it() {
        let h = hour_ns();
        let mut r = Rng::new(5);
        for _ in 0..100_000 {
            let v = (r.next_u64() % h.highest) >> r.below(40);
            let (low, width) = h.range_of(h.index_of(v));
            assert!(low <= v && v < low + width, "v={v} low={low} width={width}");
            assert!(width == 1 || (width as f64) / (low as f64) <= 1.0 / 1024.0 + 1e-12, "v={v}");
        }
    }

    #[test]
    fn quantiles_are_within_the_precision() {
        let mut r = Rng::new(6);
        let values: Vec<u64> = (0..200_000).map(|_| 50_000 + (-(r.unit()).ln() * 20_000.0) as u64).collect();
        let mut h = hour_ns();
        h.record_all(&values).unwrap();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for p in [50.0, 90.0, 99.0, 99.9] {
            let exact = sorted[((p / 100.0 * sorted.len() as f64).ceil() as usize) - 1] as f64;
            let got = h.quantile(p).unwrap().unwrap();
            assert!((got - exact).abs() / exact <= 0.0005, "p{p}: {got} vs {exact}");
        }
        assert_eq!(h.count(), 200_000);
        assert_eq!(h.min(), sorted.first().copied());
        let mean = values.iter().sum::<u64>() as f64 / values.len() as f64;
        assert_eq!(h.mean().unwrap(), mean);
    }

    #[test]
    fn merge_equals_recording_everything() {
        let (mut a, mut b, mut all) = (hour_ns(), hour_ns(), hour_ns());
        for v in 0..10_000u64 {
            let v = v * 977 % 1_000_003;
            if v % 2 == 0 { a.record(v, 1) } else { b.record(v, 1) }.unwrap();
            all.record(v, 1).unwrap();
        }
        a.merge(&b).unwrap();
        assert_eq!(a, all);
        assert!(a.merge(&Histogram::new(1, 1_000_000, 2).unwrap()).is_err());
    }

    #[test]
    fn bytes_round_trip_and_reject_garbage() {
        let mut h = hour_ns();
        h.record_all(&[1u64, 5, 5, 1_000, 123_456_789, 3_599_999_999_999]).unwrap();
        let bytes = h.to_bytes();
        assert!(bytes.len() < 200, "{} bytes", bytes.len());
        assert_eq!(Histogram::from_bytes(&bytes).unwrap(), h);
        assert_eq!(Histogram::from_bytes(&hour_ns().to_bytes()).unwrap(), hour_ns());
        assert!(Histogram::from_bytes(b"nope").is_err());
        assert!(Histogram::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut r = Rng::new(8);
        for _ in 0..2_000 {
            let mut m = bytes.clone();
            let i = r.below(m.len());
            m[i] = r.next_u64() as u8;
            m.truncate(r.below(m.len() + 1).max(HEADER_LEN.min(m.len())));
            let _ = Histogram::from_bytes(&m); // must not panic
        }
    }

    #[test]
    fn bad_input_is_rejected_whole() {
        let mut h = Histogram::new(1, 1000, 3).unwrap();
        assert!(matches!(h.record_all(&[1.0, f64::NAN]), Err(Error::NonFinite { index: 1, .. })));
        assert!(matches!(h.record_all(&[1i64, -1]), Err(Error::OutOfRange { index: 1, .. })));
        assert!(h.record_all(&[1u64, 1001]).is_err());
        assert_eq!(h.count(), 0);
        assert!(Histogram::new(1, u64::MAX, 3).is_err());
        let mut big = Histogram::new(1, MAX_HIGHEST, 3).unwrap();
        big.record_all(&[MAX_HIGHEST as f64, (MAX_HIGHEST - 1) as f64 + 0.4]).unwrap();
        assert_eq!(big.max(), Some(MAX_HIGHEST));
        assert!(Histogram::new(1, MAX_HIGHEST + 1, 3).is_err());
        assert!(Histogram::new(0, 10, 3).is_err());
        assert!(Histogram::new(1, 10, 6).is_err());
        assert!(h.quantile(101.0).is_err());
        assert_eq!(h.quantile(50.0).unwrap(), None);
        h.record_all(&[999.6f64, 0.0, 999.4]).unwrap();
        assert_eq!((h.count(), h.min(), h.max()), (3, Some(0), Some(1000)));
    }
}
