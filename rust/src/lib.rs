//! mcm's native core: a timing loop with per-call samples, latency statistics, a streaming histogram, and the
//! plan search's kernel.
//!
//! The algorithms are plain Rust (no pyo3) so `cargo test` runs without Python; the Python glue lives in
//! `python.rs` and is compiled only with the `python` feature that maturin enables. Under that feature the statistics'
//! result types (`stats::Summary` and its parts) are also frozen pyclasses, so they cross to Python as they are.

pub mod bench;
pub mod clock;
pub mod errors;
pub mod histogram;
pub mod search;
pub mod stats;

#[cfg(feature = "python")]
mod python;
