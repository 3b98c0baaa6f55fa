//! Splitting one pass over a large slice across the machine's cores (scoped threads, no pool).

use std::num::NonZeroUsize;
use std::thread;

/// Below this many elements a pass runs on the calling thread: spawning costs more than it saves.
const MIN_PER_THREAD: usize = 1 << 19;

/// How many threads a pass over `n` elements should use.
pub fn threads_for(n: usize) -> usize {
    let cores = thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(1);
    (n / MIN_PER_THREAD).clamp(1, cores)
}

/// Apply `f` to `threads` contiguous chunks of `data` and return the results in chunk order.
pub fn map_chunks<T: Sync, R: Send>(data: &[T], threads: usize, f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    if threads <= 1 || data.len() < 2 {
        return vec![f(data)];
    }
    let chunk = data.len().div_ceil(threads);
    let f = &f;
    thread::scope(|s| {
        let handles: Vec<_> = data.chunks(chunk).map(|c| s.spawn(move || f(c))).collect();
        handles.into_iter().map(|h| h.join().expect("statistics worker panicked")).collect()
    })
}

/// Run `f(i)` for `i in 0..jobs` on up to `threads` threads; results in job order.
pub fn map_jobs<R: Send>(jobs: usize, threads: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let ids: Vec<usize> = (0..jobs).collect();
    map_chunks(&ids, threads.min(jobs.max(1)), |part| part.iter().map(|&i| f(i)).collect::<Vec<R>>())
        .into_iter()
        .flatten()
        .collect()
}
