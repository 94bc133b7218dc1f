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

/// Bytes a `Cow<str>` is counted for: an owned one's capacity, a borrowed one's length as if
/// it were owned. The borrowed ones (`HTTP/1.1`) were `String`s of exactly that capacity, so
/// the budget and the reported peak stay as they were; an over-estimate, on the high side.
#[allow(clippy::ptr_arg)] // whether it is owned is the point
pub fn cow_str(s: &std::borrow::Cow<'_, str>) -> usize {
    match s {
        std::borrow::Cow::Borrowed(b) => b.len(),
        std::borrow::Cow::Owned(o) => o.capacity(),
    }
}

/// A boxed value: the box's contents and what they hold beyond themselves (`inner`).
pub fn boxed<T>(inner: usize) -> usize {
    size_of::<T>() + inner
}
