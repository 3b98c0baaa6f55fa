//! The one error type of the native core. The Python glue maps it to `mcm.exceptions.StatsError`.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// No samples where at least one is needed.
    Empty,
    /// A NaN or infinite value at `index`.
    NonFinite { index: usize, value: f64 },
    /// A value outside what a histogram can hold.
    OutOfRange { index: usize, value: f64, lowest: u64, highest: u64 },
    /// An argument that does not make sense (the message says which and why).
    InvalidArgument(String),
    /// Serialized data that cannot be decoded.
    Corrupt(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => write!(f, "no samples: at least one value is needed"),
            Error::NonFinite { index, value } => write!(
                f,
                "sample {index} is {value}: samples must be finite numbers (drop or fix NaN/inf before summarizing)"
            ),
            Error::OutOfRange { index, value, lowest, highest } => write!(
                f,
                "value {value} at index {index} is outside the histogram's range [{lowest}, {highest}]"
            ),
            Error::InvalidArgument(msg) => write!(f, "{msg}"),
            Error::Corrupt(msg) => write!(f, "corrupt histogram data: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand for an `InvalidArgument` error.
pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::InvalidArgument(msg.into()))
}
