//! The `mcm._core` module: type conversion between Python and the plain-Rust algorithms, nothing else.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyException, PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::bench::{self as timing_loop, ErrorPolicy, Failure, Target};
use crate::clock;
use crate::errors::Error;
use crate::histogram;
use crate::search;
use crate::stats;

pyo3::import_exception!(mcm.exceptions, StatsError);

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        StatsError::new_err(e.to_string())
    }
}

/// A 1-D numeric array read in place: the dtypes the statistics take without a conversion pass.
enum Samples<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
    I64(PyReadonlyArray1<'py, i64>),
    U64(PyReadonlyArray1<'py, u64>),
    I32(PyReadonlyArray1<'py, i32>),
    U32(PyReadonlyArray1<'py, u32>),
}

/// Accept any 1-D array-like of numbers; numpy arrays of a supported dtype are read without copying.
fn samples<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Samples<'py>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let mut arr = np.call_method1("asarray", (obj,))?;
    let ndim: usize = arr.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(StatsError::new_err(format!("expected a 1-D array of samples, got {ndim} dimensions")));
    }
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "f" | "i" | "u" | "b") {
        let dtype = arr.getattr("dtype")?.str()?.to_string();
        return Err(StatsError::new_err(format!("expected numeric samples, got dtype {dtype}")));
    }
    if !arr.getattr("flags")?.get_item("C_CONTIGUOUS")?.extract::<bool>()? {
        arr = np.call_method1("ascontiguousarray", (&arr,))?;
    }
    macro_rules! try_as {
        ($($variant:ident: $t:ty),*) => {$(
            if let Ok(a) = arr.extract::<PyReadonlyArray1<'py, $t>>() {
                return Ok(Samples::$variant(a));
            }
        )*};
    }
    try_as!(F64: f64, I64: i64, F32: f32, U64: u64, I32: i32, U32: u32);
    let as_f64 = np.call_method1("asarray", (&arr, "float64"))?;
    Ok(Samples::F64(as_f64.extract()?))
}

/// Run `$body` with `$slice` bound to the contiguous data of whichever dtype `$samples` holds.
macro_rules! with_slice {
    ($samples:expr, |$slice:ident| $body:expr) => {
        match &$samples {
            Samples::F64(a) => {
                let $slice = a.as_slice().expect("contiguous");
                $body
            }
            Samples::F32(a) => {
                let $slice = a.as_slice().expect("contiguous");
                $body
            }
            Samples::I64(a) => {
                let $slice = a.as_slice().expect("contiguous");
                $body
            }
            Samples::U64(a) => {
                let $slice = a.as_slice().expect("contiguous");
                $body
            }
            Samples::I32(a) => {
                let $slice = a.as_slice().expect("contiguous");
                $body
            }
            Samples::U32(a) => {
                let $slice = a.as_slice().expect("contiguous");
                $body
            }
        }
    };
}

/// Summarize latency samples (any unit) at the `quantiles` asked for; the work runs with the GIL released and reads
/// numpy arrays of the supported dtypes in place.
#[pyfunction]
#[pyo3(signature = (samples, quantiles, confidence = 0.95, bootstrap = 1000, bootstrap_max_n = 10_000, seed = 0))]
fn summarize(
    py: Python<'_>,
    samples: &Bound<'_, PyAny>,
    quantiles: Vec<f64>,
    confidence: f64,
    bootstrap: usize,
    bootstrap_max_n: usize,
    seed: u64,
) -> PyResult<stats::Summary> {
    let data = self::samples(samples)?;
    let opts = stats::Options { quantiles, confidence, bootstrap, bootstrap_max_n, seed };
    Ok(with_slice!(data, |s| py.detach(|| stats::summarize(s, &opts)))?)
}

// The statistics cross as `stats`' own types (frozen pyclasses with read-only fields); their derived values too.
#[pymethods]
impl stats::QuantileEstimate {
    /// True when both ends of the interval exist.
    #[getter(enough)]
    fn py_enough(&self) -> bool {
        self.enough()
    }
}

#[pymethods]
impl stats::Outliers {
    /// `[low severe, low mild, high mild, high severe]` fences.
    #[getter(fences)]
    fn py_fences(&self) -> [f64; 4] {
        self.fences()
    }
}

/// The fewest samples for which both ends of the `confidence` interval of the `percent` quantile exist.
#[pyfunction]
#[pyo3(signature = (percent, confidence = 0.95))]
fn min_samples(percent: f64, confidence: f64) -> PyResult<usize> {
    Ok(stats::binomial::min_samples(percent / 100.0, confidence)?)
}

/// What reading the clock costs on this machine.
#[pyfunction]
#[pyo3(signature = (reads = 100_000))]
fn clock_info(py: Python<'_>, reads: usize) -> clock::ClockInfo {
    py.detach(|| clock::clock_info(reads))
}

/// The outcome of `bench`: every sample, how the run ended, and the error that ended it if one did.
#[pyclass(frozen, get_all, module = "mcm._core")]
struct BenchRun {
    samples: Py<PyArray1<i64>>,
    calls: u64,
    errors: u64,
    warmup_calls: u64,
    warmup_ns: u64,
    elapsed_ns: u64,
    stop_reason: &'static str,
    error: Option<Py<PyAny>>,
    first_error: Option<Py<PyAny>>,
    rel_half_width: Option<f64>,
    clock: &'static str,
    clock_cost_ns: f64,
}

#[pymethods]
impl BenchRun {
    fn __repr__(&self) -> String {
        format!(
            "BenchRun(calls={}, errors={}, stop_reason={:?}, elapsed_ns={})",
            self.calls, self.errors, self.stop_reason, self.elapsed_ns
        )
    }
}

/// Call `fn(*args)` in a native loop and record one monotonic-clock sample (ns) per call.
#[pyfunction(name = "bench")]
#[pyo3(signature = (r#fn, args = None, *, warmup_count = 10, warmup_time_ns = 0, min_count = 100, min_time_ns = 0,
    max_count = None, max_time_ns = None, on_error = "raise", target_quantile = None, target_rel_width = 0.01,
    confidence = 0.95, subtract_clock_cost = true))]
#[allow(clippy::too_many_arguments)]
fn run_bench<'py>(
    py: Python<'py>,
    r#fn: &Bound<'py, PyAny>,
    args: Option<&Bound<'py, PyTuple>>,
    warmup_count: u64,
    warmup_time_ns: u64,
    min_count: u64,
    min_time_ns: u64,
    max_count: Option<u64>,
    max_time_ns: Option<u64>,
    on_error: &str,
    target_quantile: Option<f64>,
    target_rel_width: f64,
    confidence: f64,
    subtract_clock_cost: bool,
) -> PyResult<BenchRun> {
    if !r#fn.is_callable() {
        return Err(StatsError::new_err("bench needs a callable"));
    }
    let on_error = match on_error {
        "raise" => ErrorPolicy::Raise,
        "count" => ErrorPolicy::Count,
        other => {
            return Err(StatsError::new_err(format!("on_error must be 'raise' or 'count', got {other:?}")))
        }
    };
    let cfg = timing_loop::Config {
        warmup_count,
        warmup_time_ns,
        min_count,
        min_time_ns,
        max_count: max_count.unwrap_or(u64::MAX),
        max_time_ns: max_time_ns.unwrap_or(u64::MAX),
        on_error,
        target: target_quantile.map(|percent| Target {
            percent,
            rel_half_width: target_rel_width,
            confidence,
        }),
        subtract_clock_cost,
        ..timing_loop::Config::default()
    };
    let classify = |e: PyErr| {
        if e.is_instance_of::<PyException>(py) {
            Failure::Recoverable(e)
        } else {
            Failure::Fatal(e)
        }
    };
    let run = match args {
        None => timing_loop::run(&cfg, || r#fn.call0().map_err(classify), || py.check_signals())?,
        Some(a) => timing_loop::run(&cfg, || r#fn.call1(a).map_err(classify), || py.check_signals())?,
    };
    let to_obj = |e: Option<PyErr>| e.map(|e| e.into_value(py).into_any());
    Ok(BenchRun {
        samples: run.samples.into_pyarray(py).unbind(),
        calls: run.calls,
        errors: run.errors,
        warmup_calls: run.warmup_calls,
        warmup_ns: run.warmup_ns,
        elapsed_ns: run.elapsed_ns,
        stop_reason: run.stop.as_str(),
        error: to_obj(run.error),
        first_error: to_obj(run.first_error),
        rel_half_width: run.rel_half_width,
        clock: run.clock,
        clock_cost_ns: run.clock_cost_ns,
    })
}

/// A streaming, mergeable log-linear histogram of non-negative integers (nanoseconds, typically).
#[pyclass(module = "mcm._core")]
struct Histogram {
    inner: histogram::Histogram,
}

#[pymethods]
impl Histogram {
    #[new]
    #[pyo3(signature = (lowest = 1, highest = 3_600_000_000_000, sigfigs = 3))]
    fn new(lowest: u64, highest: u64, sigfigs: u8) -> PyResult<Self> {
        Ok(Histogram { inner: histogram::Histogram::new(lowest, highest, sigfigs)? })
    }

    #[getter]
    fn lowest(&self) -> u64 {
        self.inner.lowest()
    }
    #[getter]
    fn highest(&self) -> u64 {
        self.inner.highest()
    }
    #[getter]
    fn sigfigs(&self) -> u8 {
        self.inner.sigfigs()
    }
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }
    #[getter]
    fn min(&self) -> Option<u64> {
        self.inner.min()
    }
    #[getter]
    fn max(&self) -> Option<u64> {
        self.inner.max()
    }
    #[getter]
    fn mean(&self) -> Option<f64> {
        self.inner.mean()
    }

    #[pyo3(signature = (value, count = 1))]
    fn record(&mut self, value: u64, count: u64) -> PyResult<()> {
        Ok(self.inner.record(value, count)?)
    }

    /// Record every value of a 1-D array (rounded to integers), or none if any is out of range.
    fn record_array(&mut self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = samples(values)?;
        let inner = &mut self.inner;
        Ok(with_slice!(data, |s| py.detach(|| inner.record_all(s)))?)
    }

    fn quantile(&self, percent: f64) -> PyResult<Option<f64>> {
        Ok(self.inner.quantile(percent)?)
    }

    fn quantiles(&self, percents: Vec<f64>) -> PyResult<Vec<Option<f64>>> {
        percents.into_iter().map(|p| Ok(self.inner.quantile(p)?)).collect()
    }

    /// Non-empty ranges as `(lowest value, highest value, count)`, ascending.
    fn buckets(&self) -> Vec<(u64, u64, u64)> {
        self.inner.buckets()
    }

    fn merge(&mut self, other: PyRef<'_, Histogram>) -> PyResult<()> {
        Ok(self.inner.merge(&other.inner)?)
    }

    fn reset(&mut self) {
        self.inner.reset()
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Histogram> {
        Ok(Histogram { inner: histogram::Histogram::from_bytes(data)? })
    }

    fn __len__(&self) -> usize {
        self.inner.count() as usize
    }

    fn __repr__(&self) -> String {
        format!(
            "Histogram(lowest={}, highest={}, sigfigs={}, count={})",
            self.inner.lowest(),
            self.inner.highest(),
            self.inner.sigfigs(),
            self.inner.count()
        )
    }
}

/// A step as Python passes it: plain factors `(index, low, high)` and general effects `(index, scale, low, high)`.
type StepArg = (Vec<(usize, f64, f64)>, Vec<(usize, bool, f64, f64)>);
/// A candidate: `(name, step, difficulty, recommended, excludes, [(partner bit, step)])`.
type MoveArg = (String, StepArg, i64, bool, u64, Vec<(u64, StepArg)>);
/// A limit: `(bit, index, upper, op, threshold, value, scale)`.
type LimitArg = (u64, usize, bool, String, f64, f64, f64);

fn step(arg: StepArg, metrics: usize) -> PyResult<search::Step> {
    let (factors, general) = arg;
    let general: Vec<search::Effect> = general
        .into_iter()
        .map(|(index, scale, low, high)| search::Effect { index, scale, low, high })
        .collect();
    if factors.iter().map(|f| f.0).chain(general.iter().map(|e| e.index)).any(|i| i >= metrics) {
        return Err(PyValueError::new_err("an effect on a metric the space does not track"));
    }
    Ok(search::Step { factors, general })
}

fn limits(args: Vec<LimitArg>, metrics: usize) -> PyResult<Vec<search::Limit>> {
    args.into_iter()
        .map(|(bit, index, upper, op, threshold, value, scale)| {
            let bound = search::Bound::parse(&op)
                .ok_or_else(|| PyValueError::new_err(format!("not a bound: {op:?}")))?;
            if index >= metrics {
                return Err(PyValueError::new_err("a limit on a metric the space does not track"));
            }
            Ok(search::Limit { bit, index, upper, bound, threshold, value, scale })
        })
        .collect()
}

/// The per-shape part of a plan search (see `search::Space`), built once and searched per advise call.
#[pyclass(frozen, module = "mcm._core", name = "SearchSpace")]
struct SearchSpace {
    inner: search::Space,
}

#[pymethods]
impl SearchSpace {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (moves, improvers, floor, ceiling, drop, accuracy, hard, soft, core, watched))]
    fn new(
        moves: Vec<MoveArg>,
        improvers: Vec<u64>,
        floor: Vec<f64>,
        ceiling: Vec<f64>,
        drop: Option<usize>,
        accuracy: usize,
        hard: Vec<LimitArg>,
        soft: Vec<LimitArg>,
        core: Vec<(usize, bool)>,
        watched: Vec<(usize, bool)>,
    ) -> PyResult<Self> {
        let metrics = floor.len();
        if moves.len() > search::MAX_CANDIDATES
            || metrics > search::MAX_METRICS
            || hard.len() + soft.len() > metrics
        {
            return Err(PyValueError::new_err(
                "more candidates, metrics or limits than a search space holds (64)",
            ));
        }
        if ceiling.len() != metrics
            || accuracy >= metrics
            || drop.is_some_and(|d| d >= metrics)
            || core.iter().chain(&watched).any(|&(i, _)| i >= metrics)
        {
            return Err(PyValueError::new_err("an index outside the tracked metrics"));
        }
        let moves = moves
            .into_iter()
            .map(|(name, arg, difficulty, recommended, excludes, combined)| {
                let combined = combined
                    .into_iter()
                    .map(|(bit, s)| Ok((bit, step(s, metrics)?)))
                    .collect::<PyResult<_>>()?;
                Ok(search::Move {
                    name,
                    step: step(arg, metrics)?,
                    difficulty,
                    recommended,
                    excludes,
                    combined,
                })
            })
            .collect::<PyResult<_>>()?;
        let (hard, soft) = (limits(hard, metrics)?, limits(soft, metrics)?);
        Ok(SearchSpace {
            inner: search::Space {
                moves,
                improvers,
                floor,
                ceiling,
                drop,
                accuracy,
                hard,
                soft,
                core,
                watched,
            },
        })
    }

    /// Enumerate, score and rank plans from the measured values `start` (one per tracked metric).
    fn search(
        &self,
        py: Python<'_>,
        start: Vec<f64>,
        base: f64,
        max_steps: usize,
        max_nodes: usize,
    ) -> PyResult<Explored> {
        if start.len() != self.inner.floor.len() {
            return Err(PyValueError::new_err("one starting value per tracked metric"));
        }
        Ok(Explored { inner: py.detach(|| self.inner.search(&start, base, max_steps, max_nodes)) })
    }
}

/// The plans a search explored (rows in the order explored), the kept ones ranked, and whether the cap hit.
#[pyclass(frozen, module = "mcm._core")]
struct Explored {
    inner: search::Explored,
}

#[pymethods]
impl Explored {
    #[getter]
    fn truncated(&self) -> bool {
        self.inner.truncated
    }

    /// The kept plans' row numbers, best first.
    #[getter]
    fn ranked(&self) -> Vec<usize> {
        self.inner.ranked.clone()
    }

    fn __len__(&self) -> usize {
        self.inner.nodes.len()
    }

    /// The row number of the explored plan with these candidates (a bit mask), if it was explored.
    fn find(&self, mask: u64) -> Option<usize> {
        self.inner.find(mask)
    }

    /// One plan: `(mask, steps, lo, hi, difficulty, recommended, violated, violations, shortfall, soft, gain,
    /// risk, worse, gain_steps, forbidden)`.
    fn row<'py>(&self, py: Python<'py>, k: usize) -> PyResult<Bound<'py, PyTuple>> {
        let node = self.inner.nodes.get(k).ok_or_else(|| PyIndexError::new_err("no such plan"))?;
        row(py, node)
    }

    /// Every plan, as :meth:`row` gives it, in the order explored.
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.inner.nodes.iter().map(|n| row(py, n)).collect()
    }
}

fn row<'py>(py: Python<'py>, n: &search::Node) -> PyResult<Bound<'py, PyTuple>> {
    let items: [Bound<'py, PyAny>; 15] = [
        n.mask.into_pyobject(py)?.into_any(),
        PyTuple::new(py, &n.steps)?.into_any(),
        PyList::new(py, &n.lo)?.into_any(),
        PyList::new(py, &n.hi)?.into_any(),
        n.difficulty.into_pyobject(py)?.into_any(),
        n.recommended.into_pyobject(py)?.into_any(),
        n.violated.into_pyobject(py)?.into_any(),
        n.violations.into_pyobject(py)?.into_any(),
        n.shortfall.into_pyobject(py)?.into_any(),
        n.soft.into_pyobject(py)?.into_any(),
        n.gain.into_pyobject(py)?.into_any(),
        n.risk.into_pyobject(py)?.into_any(),
        n.worse.into_pyobject(py)?.into_any(),
        n.gain_steps.into_pyobject(py)?.into_any(),
        n.forbidden.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("BUILD_PROFILE", if cfg!(debug_assertions) { "debug" } else { "release" })?;
    m.add_function(wrap_pyfunction!(summarize, m)?)?;
    m.add_function(wrap_pyfunction!(min_samples, m)?)?;
    m.add_function(wrap_pyfunction!(clock_info, m)?)?;
    m.add_function(wrap_pyfunction!(run_bench, m)?)?;
    m.add_class::<BenchRun>()?;
    m.add_class::<stats::Summary>()?;
    m.add_class::<stats::QuantileEstimate>()?;
    m.add_class::<stats::Interval>()?;
    m.add_class::<stats::Outliers>()?;
    m.add_class::<Histogram>()?;
    m.add_class::<clock::ClockInfo>()?;
    m.add_class::<SearchSpace>()?;
    m.add_class::<Explored>()?;
    Ok(())
}
