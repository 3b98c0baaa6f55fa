//! Distribution-free confidence intervals for quantiles from order statistics (the binomial bound that MLPerf
//! LoadGen's early stopping uses), and the normal quantile for large-sample intervals of the mean.

use crate::errors::{invalid, Result};

/// ln Γ(x) for x > 0 (Lanczos, g = 7; relative error below 1e-14).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction for the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let max_iter = 200 + 20 * ((a.max(b)).sqrt() as usize);
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=max_iter {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
pub fn reg_inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// P(X ≤ k) for X ~ Binomial(n, p).
pub fn binom_cdf(k: usize, n: usize, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    reg_inc_beta((n - k) as f64, (k + 1) as f64, 1.0 - p)
}

/// 1-based order-statistic ranks `(lower, upper)` such that `[X(lower), X(upper)]` covers the `p` quantile with
/// probability at least `confidence`, each tail at most (1 - confidence) / 2. `None` on a side where `n` samples
/// are too few to bound it.
pub fn quantile_ci_ranks(n: usize, p: f64, confidence: f64) -> (Option<usize>, Option<usize>) {
    if n == 0 {
        return (None, None);
    }
    let tail = (1.0 - confidence) / 2.0;
    // lower = the largest j with P(Bin ≤ j - 1) ≤ tail.
    let lower = if binom_cdf(0, n, p) > tail {
        None
    } else {
        let (mut lo, mut hi) = (1usize, n); // invariant: F(lo - 1) ≤ tail
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if binom_cdf(mid - 1, n, p) <= tail {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(lo)
    };
    // upper = the smallest j with P(Bin ≤ j - 1) ≥ 1 - tail.
    let upper = if binom_cdf(n - 1, n, p) < 1.0 - tail {
        None
    } else {
        let (mut lo, mut hi) = (1usize, n); // invariant: F(hi - 1) ≥ 1 - tail
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if binom_cdf(mid - 1, n, p) >= 1.0 - tail {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    };
    (lower, upper)
}

/// The fewest samples for which both ends of the `confidence` interval of the `p` quantile exist.
pub fn min_samples(p: f64, confidence: f64) -> Result<usize> {
    if !(p > 0.0 && p < 1.0) {
        return invalid(format!("quantile must be strictly between 0 and 1, got {p}"));
    }
    check_confidence(confidence)?;
    let tail = (1.0 - confidence) / 2.0;
    let need = |q: f64| (tail.ln() / q.ln()).ceil().max(1.0) as usize;
    let mut n = need(p).max(need(1.0 - p)).saturating_sub(2).max(1);
    while p.powi(n as i32) > tail || (1.0 - p).powi(n as i32) > tail {
        n += 1;
    }
    Ok(n)
}

pub fn check_confidence(confidence: f64) -> Result<()> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        invalid(format!("confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence}"))
    }
}

/// The standard normal quantile Φ⁻¹(p) (Acklam's rational approximation, relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdf_by_sum(k: usize, n: usize, p: f64) -> f64 {
        // Sum the pmf in log space.
        let ln_choose = |n: usize, i: usize| {
            ln_gamma(n as f64 + 1.0) - ln_gamma(i as f64 + 1.0) - ln_gamma((n - i) as f64 + 1.0)
        };
        (0..=k).map(|i| (ln_choose(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp()).sum()
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut fact = 1.0f64;
        for n in 1..30 {
            fact *= n as f64;
            assert!((ln_gamma(n as f64 + 1.0) - fact.ln()).abs() < 1e-10, "n={n}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn binomial_cdf_matches_direct_sum() {
        for &(n, p) in &[(10usize, 0.5), (100, 0.9), (1000, 0.99), (2000, 0.5), (500, 0.01)] {
            for k in [0, 1, n / 4, n / 2, n * 9 / 10, n * 99 / 100, n - 1] {
                let (a, b) = (binom_cdf(k, n, p), cdf_by_sum(k, n, p).min(1.0));
                assert!((a - b).abs() < 1e-9, "n={n} p={p} k={k}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn ci_ranks_bracket_the_quantile_and_hold_coverage() {
        for &(n, p) in &[(100usize, 0.5), (1000, 0.9), (1000, 0.99), (100_000, 0.999), (10_000_000, 0.99)] {
            let (l, u) = quantile_ci_ranks(n, p, 0.95);
            let (l, u) = (l.unwrap(), u.unwrap());
            assert!(l as f64 <= n as f64 * p + 1.0 && u as f64 >= n as f64 * p, "n={n} p={p} l={l} u={u}");
            let coverage = binom_cdf(u - 1, n, p) - binom_cdf(l - 1, n, p);
            assert!(coverage >= 0.95 - 1e-9, "coverage {coverage}");
            // Tight: moving either end inwards loses the guarantee on that side.
            assert!(binom_cdf(l, n, p) > 0.025 && binom_cdf(u - 2, n, p) < 0.975);
        }
    }

    #[test]
    fn too_few_samples_leave_an_end_open() {
        assert_eq!(quantile_ci_ranks(50, 0.99, 0.95).1, None);
        let need = min_samples(0.99, 0.95).unwrap();
        assert_eq!(need, 368);
        assert!(quantile_ci_ranks(need, 0.99, 0.95).1.is_some());
        assert!(quantile_ci_ranks(need - 1, 0.99, 0.95).1.is_none());
        assert!(min_samples(1.0, 0.95).is_err());
        assert!(min_samples(0.5, 1.0).is_err());
    }

    #[test]
    fn normal_quantile_known_values() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-6);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.005) + 2.575_829_303_548_901).abs() < 1e-6);
    }
}
