//! Numeric element types the statistics accept without converting the whole array first.

/// A value that can be read as `f64` (timing samples arrive as int64 nanoseconds or float64).
pub trait Sample: Copy + Send + Sync {
    fn to_f64(self) -> f64;
}

macro_rules! impl_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}

impl_sample!(f64, f32, i64, u64, i32, u32);
