//! Heap footprints: how many bytes a buffer holds, for the memory budget. Capacities, not
//! lengths, since a buffer holds what it reserved; an estimate that errs on the high side, so
//! the budget is a bound on what the analysis really holds.

use std::collections::VecDeque;

/// What one inflater holds (flate2's `Decompress` on miniz_oxide: the 32 KiB window and the
/// Huffman tables), measured at ~43 KiB.
pub const INFLATER: usize = 43 << 10;

/// Bytes a `Vec` reserved on the heap.
pub fn vec<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// Bytes a `VecDeque` reserved on the heap.
pub fn deque<T>(v: &VecDeque<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// Bytes a `String` reserved on the heap.
pub fn string(s: &String) -> usize {
    s.capacity()
}

/// A boxed value: the box's contents and what they hold beyond themselves (`inner`).
pub fn boxed<T>(inner: usize) -> usize {
    size_of::<T>() + inner
}
