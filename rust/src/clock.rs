//! The monotonic clock the timing loop reads, and what it costs to read it.

/// Nanoseconds on the monotonic clock (CLOCK_MONOTONIC through the vDSO on Linux).
#[inline(always)]
pub fn now_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux and macOS.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
    #[cfg(not(unix))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// A clock the timing loop can read: raw ticks, and their length in nanoseconds.
pub trait Clock {
    fn ticks(&self) -> u64;
    fn ns_per_tick(&self) -> f64;
    fn name(&self) -> &'static str;
}

/// CLOCK_MONOTONIC in nanoseconds.
pub struct Monotonic;

impl Clock for Monotonic {
    #[inline(always)]
    fn ticks(&self) -> u64 {
        now_ns()
    }
    fn ns_per_tick(&self) -> f64 {
        1.0
    }
    fn name(&self) -> &'static str {
        "CLOCK_MONOTONIC"
    }
}

/// The CPU's time-stamp counter, calibrated against CLOCK_MONOTONIC. Used only where the kernel itself trusts it
/// (invariant TSC and the `tsc` clocksource): a read costs about a third of a `clock_gettime`.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub struct Tsc {
    ns_per_tick: f64,
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
impl Clock for Tsc {
    #[inline(always)]
    fn ticks(&self) -> u64 {
        // SAFETY: RDTSC exists on every x86_64 CPU and has no memory effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    fn ns_per_tick(&self) -> f64 {
        self.ns_per_tick
    }
    fn name(&self) -> &'static str {
        "TSC"
    }
}

/// The calibrated TSC clock, where this machine has a trustworthy one (`MCM_CLOCK=monotonic` turns it off).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub fn tsc() -> Option<&'static Tsc> {
    use std::sync::OnceLock;
    static TSC: OnceLock<Option<Tsc>> = OnceLock::new();
    TSC.get_or_init(|| {
        if std::env::var("MCM_CLOCK").is_ok_and(|v| v == "monotonic") {
            return None;
        }
        let flags = std::fs::read_to_string("/proc/cpuinfo").ok()?;
        let flags = flags.lines().find(|l| l.starts_with("flags"))?;
        let invariant = flags.split_whitespace().any(|f| f == "constant_tsc")
            && flags.split_whitespace().any(|f| f == "nonstop_tsc");
        let source =
            std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
                .ok()?;
        if !invariant || source.trim() != "tsc" {
            return None;
        }
        let raw = Tsc { ns_per_tick: 1.0 };
        let (n0, t0) = (now_ns(), raw.ticks());
        while now_ns() - n0 < 10_000_000 {}
        let (n1, t1) = (now_ns(), raw.ticks());
        (t1 > t0).then(|| Tsc { ns_per_tick: (n1 - n0) as f64 / (t1 - t0) as f64 })
    })
    .as_ref()
}

/// The clock's own cost and granularity, measured on this machine.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(frozen, get_all, eq, module = "mcm._core"))]
pub struct ClockInfo {
    /// "TSC" or "CLOCK_MONOTONIC".
    pub clock: &'static str,
    /// Median time between two back-to-back reads: what every sample carries as a floor.
    pub read_overhead_ns: f64,
    /// The clock's tick: what `clock_getres` reports, or one TSC cycle.
    pub resolution_ns: f64,
    /// Smallest non-zero step seen between consecutive reads.
    pub min_step_ns: f64,
    /// Reads taken to measure the above.
    pub reads: usize,
}

/// Measure the clock the timing loop uses with `reads` pairs of back-to-back reads.
pub fn clock_info(reads: usize) -> ClockInfo {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let Some(t) = tsc() {
        return measure(t, reads, 0);
    }
    measure(&Monotonic, reads, resolution_ns())
}

/// What one read of `clock` costs, in ticks: the median of back-to-back reads. A sample taken between two reads
/// carries about this much of the clock itself on top of what was timed.
pub fn read_cost_ticks(clock: &impl Clock, reads: usize) -> u64 {
    let mut diffs: Vec<u64> = (0..reads.max(16))
        .map(|_| {
            let a = clock.ticks();
            clock.ticks() - a
        })
        .collect();
    let mid = diffs.len() / 2;
    *diffs.select_nth_unstable(mid).1
}

fn measure(clock: &impl Clock, reads: usize, resolution_ns: u64) -> ClockInfo {
    let reads = reads.max(16);
    let mut diffs: Vec<u64> = Vec::with_capacity(reads);
    for _ in 0..reads {
        let a = clock.ticks();
        let b = clock.ticks();
        diffs.push(b - a);
    }
    let scale = clock.ns_per_tick();
    let min_step = diffs.iter().copied().filter(|&d| d > 0).min().unwrap_or(0);
    let mid = diffs.len() / 2;
    let (_, median, _) = diffs.select_nth_unstable(mid);
    ClockInfo {
        clock: clock.name(),
        read_overhead_ns: *median as f64 * scale,
        resolution_ns: if resolution_ns > 0 { resolution_ns as f64 } else { scale },
        min_step_ns: min_step as f64 * scale,
        reads,
    }
}

fn resolution_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: as in `now_ns`.
        let rc = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut ts) };
        if rc == 0 {
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic() {
        let mut last = now_ns();
        for _ in 0..10_000 {
            let t = now_ns();
            assert!(t >= last);
            last = t;
        }
    }

    #[test]
    fn clock_info_is_plausible() {
        let info = clock_info(1000);
        assert!(info.read_overhead_ns < 10_000.0, "{info:?}");
        assert!(info.min_step_ns > 0.0);
        assert_eq!(info.reads, 1000);
    }
}
