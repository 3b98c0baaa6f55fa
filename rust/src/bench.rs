//! The timing loop: one monotonic-clock sample per call, warm-up, minimum and maximum count and time, optional
//! early stop on a narrow enough quantile interval. Generic over the call so it runs (and is tested) without Python.

use crate::clock::{self, Clock};
use crate::errors::{invalid, Result};
use crate::stats;

/// What to do when a call fails with an ordinary error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPolicy {
    /// Stop the run with that error (samples taken so far are kept).
    Raise,
    /// Count the call as an error and go on.
    Count,
}

/// How a call failed: `Recoverable` errors follow the policy; `Fatal` ones (Ctrl-C, exit) always stop the run.
#[derive(Debug)]
pub enum Failure<E> {
    Recoverable(E),
    Fatal(E),
}

/// Stop once the confidence interval of `percent` is within `rel_half_width` of the estimate on each side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub percent: f64,
    pub rel_half_width: f64,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub warmup_count: u64,
    pub warmup_time_ns: u64,
    pub min_count: u64,
    pub min_time_ns: u64,
    /// `u64::MAX` for no limit.
    pub max_count: u64,
    /// `u64::MAX` for no limit.
    pub max_time_ns: u64,
    pub on_error: ErrorPolicy,
    pub target: Option<Target>,
    /// How often to poll for an interrupt (Ctrl-C) between calls.
    pub poll_interval_ns: u64,
    /// Subtract the clock's own read cost (measured at the start of the run) from every sample, so a sample is
    /// the call and not the call plus half of each clock read.
    pub subtract_clock_cost: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            warmup_count: 10,
            warmup_time_ns: 0,
            min_count: 100,
            min_time_ns: 0,
            max_count: u64::MAX,
            max_time_ns: 60_000_000_000,
            on_error: ErrorPolicy::Raise,
            target: None,
            poll_interval_ns: 20_000_000,
            subtract_clock_cost: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Minimum count and time reached (no target set).
    MinReached,
    /// The target quantile's interval became narrow enough.
    Converged,
    MaxCount,
    MaxTime,
    /// A call failed and the policy is `Raise`.
    Error,
    /// A fatal failure or an interrupt.
    Interrupted,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::MinReached => "min_reached",
            StopReason::Converged => "converged",
            StopReason::MaxCount => "max_count",
            StopReason::MaxTime => "max_time",
            StopReason::Error => "error",
            StopReason::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug)]
pub struct Run<E> {
    /// Nanoseconds per successful timed call, in call order.
    pub samples: Vec<i64>,
    /// Timed calls made (successes and counted errors).
    pub calls: u64,
    /// Timed calls that failed (policy `Count`), warm-up failures included.
    pub errors: u64,
    pub warmup_calls: u64,
    pub warmup_ns: u64,
    /// Wall time of the timed phase.
    pub elapsed_ns: u64,
    pub stop: StopReason,
    /// The error that stopped the run, if one did.
    pub error: Option<E>,
    /// The first counted error (policy `Count`).
    pub first_error: Option<E>,
    /// The target quantile's relative interval half-width at the last check.
    pub rel_half_width: Option<f64>,
    /// The clock that timed the calls ("TSC" or "CLOCK_MONOTONIC").
    pub clock: &'static str,
    /// The clock read cost subtracted from every sample (0 when `subtract_clock_cost` is off).
    pub clock_cost_ns: f64,
}

impl Config {
    pub fn validate(&self) -> Result<()> {
        if self.max_count == 0 {
            return invalid("max_count must be at least 1");
        }
        if self.min_count > self.max_count {
            return invalid(format!("min_count ({}) exceeds max_count ({})", self.min_count, self.max_count));
        }
        if self.min_time_ns > self.max_time_ns {
            return invalid("min_time exceeds max_time");
        }
        if let Some(t) = self.target {
            if !(t.percent > 0.0 && t.percent < 100.0) {
                return invalid(format!(
                    "target quantile must be strictly between 0 and 100, got {}",
                    t.percent
                ));
            }
            if !(t.rel_half_width > 0.0 && t.rel_half_width.is_finite()) {
                return invalid("target relative width must be a positive number (0.01 means ±1%)");
            }
            stats::binomial::check_confidence(t.confidence)?;
        }
        Ok(())
    }
}

/// Time `call` under `cfg` with the cheapest trustworthy clock; what a call returns is dropped after the second
/// clock read. `poll` is called between calls about every `poll_interval_ns`; an error from it stops the run as
/// `Interrupted`.
pub fn run<E, T>(
    cfg: &Config,
    call: impl FnMut() -> std::result::Result<T, Failure<E>>,
    poll: impl FnMut() -> std::result::Result<(), E>,
) -> Result<Run<E>> {
    cfg.validate()?;
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if let Some(tsc) = clock::tsc() {
        return Ok(run_with(tsc, cfg, call, poll));
    }
    Ok(run_with(&clock::Monotonic, cfg, call, poll))
}

fn run_with<E, T, C: Clock>(
    clock: &C,
    cfg: &Config,
    call: impl FnMut() -> std::result::Result<T, Failure<E>>,
    poll: impl FnMut() -> std::result::Result<(), E>,
) -> Run<E> {
    let mut run = Loop { limits: Limits::new(clock, cfg), clock, cfg, call, poll };
    let mut out = Run::new(clock.name(), run.limits.ns_f64(run.limits.cost));
    match run.warm_up(&mut out).and_then(|()| run.timed(&mut out)) {
        Ok(reason) => out.stop = reason,
        Err((reason, error)) => return stopped(out, reason, error),
    }
    if let Some(target) = cfg.target.filter(|_| out.stop != StopReason::Converged && !out.samples.is_empty())
    {
        out.rel_half_width = relative_half_width(&out.samples, target);
    }
    out
}

impl<E> Run<E> {
    fn new(clock: &'static str, clock_cost_ns: f64) -> Self {
        Run {
            samples: Vec::new(),
            calls: 0,
            errors: 0,
            warmup_calls: 0,
            warmup_ns: 0,
            elapsed_ns: 0,
            stop: StopReason::MinReached,
            error: None,
            first_error: None,
            rel_half_width: None,
            clock,
            clock_cost_ns,
        }
    }
}

/// Why a phase ended the run early: the reason, and the error from the call or the poll.
type Stop<E> = (StopReason, E);

/// The configured times in clock ticks, and the clock's own read cost that each sample has taken off.
struct Limits {
    ns_per_tick: f64,
    warmup_time: u64,
    min_time: u64,
    max_time: u64,
    poll_interval: u64,
    cost: u64,
}

impl Limits {
    fn new(clock: &impl Clock, cfg: &Config) -> Self {
        let scale = clock.ns_per_tick();
        let ticks = |ns: u64| if ns == u64::MAX { u64::MAX } else { (ns as f64 / scale) as u64 };
        Limits {
            ns_per_tick: scale,
            warmup_time: ticks(cfg.warmup_time_ns),
            min_time: ticks(cfg.min_time_ns),
            max_time: ticks(cfg.max_time_ns),
            poll_interval: ticks(cfg.poll_interval_ns),
            cost: if cfg.subtract_clock_cost { clock::read_cost_ticks(clock, 10_000) } else { 0 },
        }
    }

    fn ns_f64(&self, ticks: u64) -> f64 {
        ticks as f64 * self.ns_per_tick
    }

    fn ns(&self, ticks: u64) -> u64 {
        self.ns_f64(ticks).round() as u64
    }
}

/// One run's loop: the clock, the configuration in ticks, the call and the interrupt poll.
struct Loop<'a, C, F, P> {
    clock: &'a C,
    cfg: &'a Config,
    limits: Limits,
    call: F,
    poll: P,
}

impl<C, F, P, T, E> Loop<'_, C, F, P>
where
    C: Clock,
    F: FnMut() -> std::result::Result<T, Failure<E>>,
    P: FnMut() -> std::result::Result<(), E>,
{
    /// Warm-up: until both the count and the time are reached (or the maximum time); failures follow the policy.
    fn warm_up(&mut self, out: &mut Run<E>) -> std::result::Result<(), Stop<E>> {
        let (count, time) = (self.cfg.warmup_count, self.limits.warmup_time);
        let start = self.clock.ticks();
        let mut last_poll = start;
        while out.warmup_calls < count || self.clock.ticks() - start < time {
            out.warmup_calls += 1;
            if let Err(failure) = (self.call)() {
                self.count_or_stop(out, failure)?;
            }
            let t = self.clock.ticks();
            self.poll_when_due(t, &mut last_poll)?;
            if t - start >= self.limits.max_time {
                break;
            }
        }
        out.warmup_ns = self.limits.ns(self.clock.ticks() - start);
        Ok(())
    }

    /// The timed calls, one sample each, until a limit is reached or the target interval is narrow enough.
    fn timed(&mut self, out: &mut Run<E>) -> std::result::Result<StopReason, Stop<E>> {
        let cfg = self.cfg;
        out.samples.reserve(cfg.min_count.clamp(1024, 1 << 22).min(cfg.max_count) as usize);
        let mut next_check = cfg.min_count.max(64) as usize;
        let start = self.clock.ticks();
        let mut last_poll = start;
        loop {
            let t0 = self.clock.ticks();
            let result = (self.call)();
            let t1 = self.clock.ticks();
            out.calls += 1;
            let elapsed = t1 - start;
            out.elapsed_ns = self.limits.ns(elapsed);
            match result {
                // The call's result is released here, after the second clock read, not inside the timed window.
                Ok(value) => {
                    out.samples.push(self.limits.ns((t1 - t0).saturating_sub(self.limits.cost)) as i64);
                    drop(value);
                }
                Err(failure) => self.count_or_stop(out, failure)?,
            }
            if out.calls >= cfg.max_count {
                return Ok(StopReason::MaxCount);
            }
            if elapsed >= self.limits.max_time {
                return Ok(StopReason::MaxTime);
            }
            self.poll_when_due(t1, &mut last_poll)?;
            if out.calls >= cfg.min_count && elapsed >= self.limits.min_time {
                let Some(target) = cfg.target else {
                    return Ok(StopReason::MinReached);
                };
                if converged(out, target, &mut next_check) {
                    return Ok(StopReason::Converged);
                }
            }
        }
    }

    /// A failed call: counted under `ErrorPolicy::Count` when recoverable, else the reason to stop.
    fn count_or_stop(&self, out: &mut Run<E>, failure: Failure<E>) -> std::result::Result<(), Stop<E>> {
        match failure {
            Failure::Recoverable(e) if self.cfg.on_error == ErrorPolicy::Count => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
                Ok(())
            }
            Failure::Recoverable(e) => Err((StopReason::Error, e)),
            Failure::Fatal(e) => Err((StopReason::Interrupted, e)),
        }
    }

    /// Poll for an interrupt when `poll_interval` has passed since the last poll; an error from it stops the run.
    fn poll_when_due(&mut self, now: u64, last_poll: &mut u64) -> std::result::Result<(), Stop<E>> {
        if now - *last_poll >= self.limits.poll_interval {
            *last_poll = now;
            (self.poll)().map_err(|e| (StopReason::Interrupted, e))?;
        }
        Ok(())
    }
}

/// Whether the target quantile's interval is narrow enough, checked at geometrically spaced sample counts so the
/// total checking cost stays linear in the run length.
fn converged<E>(out: &mut Run<E>, target: Target, next_check: &mut usize) -> bool {
    if out.samples.len() < *next_check {
        return false;
    }
    *next_check = out.samples.len() + out.samples.len() / 10 + 1;
    out.rel_half_width = relative_half_width(&out.samples, target);
    out.rel_half_width.is_some_and(|w| w <= target.rel_half_width)
}

fn stopped<E>(mut out: Run<E>, reason: StopReason, error: E) -> Run<E> {
    out.stop = reason;
    out.error = Some(error);
    out
}

/// The larger side of the target quantile's interval relative to its estimate; `None` while it is unbounded.
fn relative_half_width(samples: &[i64], t: Target) -> Option<f64> {
    let (value, lo, hi) = stats::quantile_ci(samples, t.percent, t.confidence).ok()?;
    let (lo, hi) = (lo?, hi?);
    if value <= 0.0 {
        return None;
    }
    Some((value - lo).max(hi - value) / value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(ns: u64) -> std::result::Result<(), Failure<String>> {
        let end = clock::now_ns() + ns;
        while clock::now_ns() < end {}
        Ok(())
    }

    fn ok() -> std::result::Result<(), Failure<String>> {
        Ok(())
    }

    fn no_poll() -> std::result::Result<(), String> {
        Ok(())
    }

    #[test]
    fn stops_at_min_count_and_keeps_every_sample() {
        let cfg = Config { min_count: 500, warmup_count: 5, ..Config::default() };
        let run = run(&cfg, ok, no_poll).unwrap();
        assert_eq!(run.stop, StopReason::MinReached);
        assert_eq!((run.samples.len(), run.calls, run.warmup_calls), (500, 500, 5));
        assert!(run.samples.iter().all(|&s| s >= 0));
    }

    #[test]
    fn busy_wait_is_measured_accurately() {
        let cfg = Config { min_count: 200, ..Config::default() };
        let run = run(&cfg, || busy(100_000), no_poll).unwrap();
        let mut s = run.samples.clone();
        s.sort_unstable();
        let median = s[s.len() / 2] as f64;
        assert!((median - 100_000.0).abs() / 100_000.0 < 0.02, "median {median}");
    }

    #[test]
    fn min_time_and_max_limits() {
        let cfg = Config { min_count: 1, min_time_ns: 20_000_000, ..Config::default() };
        let r = run(&cfg, || busy(1_000_000), no_poll).unwrap();
        // Wall-clock only: on a loaded machine each 1 ms call may take longer, so count calls loosely.
        assert_eq!(r.stop, StopReason::MinReached);
        assert!(
            r.elapsed_ns >= 20_000_000 && r.calls * 1_000_000 <= r.elapsed_ns + 1_000_000,
            "{} calls",
            r.calls
        );
        let cfg = Config { min_count: 1000, max_count: 1000, max_time_ns: 5_000_000, ..Config::default() };
        let r = run(&cfg, || busy(1_000_000), no_poll).unwrap();
        assert_eq!(r.stop, StopReason::MaxTime);
        assert!(r.calls < 10);
    }

    #[test]
    fn errors_stop_or_are_counted() {
        let mut i = 0;
        let flaky = move || {
            i += 1;
            if i % 4 == 0 {
                Err(Failure::Recoverable(format!("call {i}")))
            } else {
                Ok(())
            }
        };
        let cfg = Config { warmup_count: 0, min_count: 100, ..Config::default() };
        let r = run(&cfg, flaky, no_poll).unwrap();
        assert_eq!((r.stop, r.samples.len()), (StopReason::Error, 3));
        assert_eq!(r.error.as_deref(), Some("call 4"));
        let cfg = Config { on_error: ErrorPolicy::Count, ..cfg };
        let r = run(&cfg, flaky, no_poll).unwrap();
        assert_eq!((r.stop, r.calls, r.errors, r.samples.len()), (StopReason::MinReached, 100, 25, 75));
        assert_eq!(r.first_error.as_deref(), Some("call 4"));
    }

    #[test]
    fn fatal_failures_and_interrupts_always_stop() {
        let cfg =
            Config { warmup_count: 0, min_count: 100, on_error: ErrorPolicy::Count, ..Config::default() };
        let mut i = 0;
        let r = run(
            &cfg,
            || {
                i += 1;
                if i == 10 {
                    Err(Failure::Fatal("ctrl-c".to_string()))
                } else {
                    Ok(())
                }
            },
            no_poll,
        )
        .unwrap();
        assert_eq!((r.stop, r.samples.len()), (StopReason::Interrupted, 9));
        let cfg = Config { poll_interval_ns: 0, ..cfg };
        let r = run(&cfg, ok, || Err("signal".to_string())).unwrap();
        assert_eq!(r.stop, StopReason::Interrupted);
        assert_eq!(r.error.as_deref(), Some("signal"));
    }

    #[test]
    fn early_stop_on_a_narrow_interval() {
        let target = Target { percent: 50.0, rel_half_width: 0.05, confidence: 0.95 };
        let cfg = Config { min_count: 100, max_count: 1_000_000, target: Some(target), ..Config::default() };
        let r = run(&cfg, || busy(2_000), no_poll).unwrap();
        assert_eq!(r.stop, StopReason::Converged);
        assert!(r.rel_half_width.unwrap() <= 0.05);
        assert!(r.calls < 1_000_000);
    }

    #[test]
    fn the_clock_read_cost_is_subtracted_and_reported() {
        let median = |cfg: &Config| {
            let r = run(cfg, ok, no_poll).unwrap();
            let mut s = r.samples.clone();
            s.sort_unstable();
            (s[s.len() / 2], r.clock_cost_ns)
        };
        let on = Config { min_count: 20_000, ..Config::default() };
        let off = Config { subtract_clock_cost: false, ..on.clone() };
        let ((with, cost), (without, none)) = (median(&on), median(&off));
        assert!(cost > 0.0 && cost < 1_000.0 && none == 0.0, "{cost} {none}");
        assert!(with >= 0 && with <= without, "{with} vs {without}");
    }

    #[test]
    fn bad_configs_are_rejected() {
        let bad = Config { min_count: 10, max_count: 5, ..Config::default() };
        assert!(run(&bad, ok, no_poll).is_err());
        let t = Target { percent: 100.0, rel_half_width: 0.01, confidence: 0.95 };
        assert!(run(&Config { target: Some(t), ..Config::default() }, ok, no_poll).is_err());
    }
}
