//! What the reassembly's gaps and events say as findings: the code, where, and one line that
//! names the cause and, where there is one, the fix.
//!
//! A gap says whether its bytes were never captured (the receiver acknowledged them, the
//! connection ended with the hole open, the snaplen cut them) or hopscope gave up waiting for
//! them because one of its bounds was hit, and which bound: only the first is the capture's
//! fault.

use crate::model::codes::{self, Code};
use crate::reassembly::{Event, GapCause};

/// The `tcp.gap` message for `n` missing bytes given up for `cause`.
pub fn gap(n: u64, cause: GapCause) -> String {
    let why = match cause {
        GapCause::Acked => {
            "were not captured: the receiver acknowledged them, so they crossed the network but \
             not the capture point (capture loss, or another path)"
        }
        GapCause::Ended => {
            "were not captured: the connection (or the capture) ended with this hole still open"
        }
        GapCause::Snaplen => "were cut off by the capture's snaplen (capture with `-s 0`)",
        GapCause::OooLimit => {
            "were given up by hopscope, not lost by the capture: the out-of-order buffer of this \
             direction was full (raise --max-ooo-bytes); if they arrive later they are late data"
        }
        GapCause::BufferLimit => {
            "were given up by hopscope, not lost by the capture: the reassembly buffers of all \
             connections were full (raise --max-buffered-bytes); if they arrive later they are \
             late data"
        }
        GapCause::FlowLimit => {
            "were given up by hopscope, not lost by the capture: the flow table was full and this \
             connection was evicted (raise --max-flows)"
        }
        GapCause::MemoryBudget => {
            "were given up by hopscope, not lost by the capture: the memory budget was short and \
             shed this connection's buffers (raise --memory); if they arrive later they are late \
             data"
        }
    };
    format!("{n} bytes of this stream {why}; analyzers resynchronise after the hole")
}

/// The finding an event becomes: code, stream offset, message. `None` when the event is
/// only counted: late data and sequence jumps after the first `max` of their kind in a
/// direction (the connection's `late_bytes` and `sequence_jumps` count all of them).
pub fn event(event: &Event, max: u32) -> Option<(&'static Code, u64, String)> {
    Some(match *event {
        // The engine's `memory.buffer-shed` finding says what the memory budget gave up.
        Event::MemoryShed { .. } => return None,
        Event::OverlapConflict { offset, len } => (
            &codes::TCP_OVERLAP_CONFLICT,
            offset,
            format!(
                "overlapping TCP segments carry different bytes ({len} bytes compared); hopscope kept the first copy, but a receiver may have kept the other (IDS evasion or a broken middlebox)"
            ),
        ),
        Event::OooLimit { offset, gap } => (
            &codes::TCP_OOO_LIMIT,
            offset,
            format!(
                "out-of-order buffer for this direction is full; {gap} missing bytes were given up as a gap (raise --max-ooo-bytes to wait longer)"
            ),
        ),
        Event::BudgetLimit { offset, gap } => (
            &codes::TCP_BUFFER_LIMIT,
            offset,
            format!(
                "reassembly buffers for all flows are full; {gap} missing bytes were given up as a gap (raise --max-buffered-bytes)"
            ),
        ),
        Event::LateData {
            offset,
            len,
            cause,
            nth,
        } => {
            if nth > max {
                return None;
            }
            let why = match cause {
                GapCause::Acked => {
                    "the receiver's acknowledgment of them was captured first (the capture \
                     reordered packets)"
                }
                GapCause::Ended | GapCause::FlowLimit => "the connection had been closed",
                GapCause::Snaplen => "the snaplen had cut their first copy",
                GapCause::OooLimit => "the out-of-order buffer was full (raise --max-ooo-bytes)",
                GapCause::BufferLimit => {
                    "the reassembly buffers were full (raise --max-buffered-bytes)"
                }
                GapCause::MemoryBudget => "the memory budget was short (raise --memory)",
            };
            (
                &codes::TCP_LATE_DATA,
                offset,
                format!(
                    "{len} bytes arrived after they had been given up as a gap because {why}; they were not analysed and are counted in late_bytes, not as a retransmission"
                ),
            )
        }
        Event::SequenceJump {
            at,
            distance,
            len,
            ack,
            nth,
        } => {
            if nth > u64::from(max) {
                return None;
            }
            let (what, verb) = if ack {
                ("an acknowledgment".to_string(), "ignored")
            } else {
                (
                    format!("a {len}-byte segment"),
                    "not taken as data of this stream",
                )
            };
            let place = if distance >= 0 {
                format!("{distance} bytes beyond")
            } else {
                format!("{} bytes behind", distance.unsigned_abs())
            };
            (
                &codes::TCP_SEQUENCE_JUMP,
                at,
                format!(
                    "{what} reaches {place} where this stream was, further than any TCP window allows (2^30 bytes, RFC 7323 §2.3); it was {verb} (an injected or corrupted segment, or a capture that lost more than 1 GiB of this connection)"
                ),
            )
        }
    })
}
