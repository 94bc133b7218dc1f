//! Repeated findings on one conversation (`docs/findings.md`, "Repeated findings").
//!
//! A finding belongs to a peer: the first occurrence of each (code, direction) on a
//! conversation is a finding at once, as it happens; later ones are counted here, and when the
//! conversation ends [`Repeats::take`] gives one more finding per (code, direction) that
//! happened more than once, with `count` and the `packets` of the first
//! [`MAX_REPEAT_PACKETS`] occurrences. So the server breaking a rule the client broke first is
//! seen, every occurrence is counted, and a broken peer does not flood the report.
//!
//! Bounds: one entry per (code, direction) seen (codes are a fixed registry, directions two),
//! each with at most [`MAX_REPEAT_PACKETS`] packet numbers.

use crate::base::heap;
use crate::model::{Finding, MAX_REPEAT_PACKETS};

/// The first finding of one (code, direction), its message dropped, and how often it came.
struct Seen {
    first: Finding,
    count: u64,
    packets: Vec<u64>,
}

/// What one conversation raised, per (code, direction).
#[derive(Default)]
pub struct Repeats {
    seen: Vec<Seen>,
}

impl Repeats {
    /// Counts `f`; whether it is the first of its (code, direction), to be raised now.
    pub fn first(&mut self, f: &Finding) -> bool {
        if let Some(s) = self
            .seen
            .iter_mut()
            .find(|s| s.first.code == f.code && s.first.direction == f.direction)
        {
            s.count = s.count.saturating_add(1);
            // Each packet once: several frames of one packet name it once.
            if s.packets.len() < MAX_REPEAT_PACKETS
                && let Some(p) = f.packet
                && s.packets.last() != Some(&p)
            {
                s.packets.push(p);
            }
            return false;
        }
        let mut first = f.clone();
        first.message = String::new();
        self.seen.push(Seen {
            packets: f.packet.into_iter().collect(),
            first,
            count: 1,
        });
        true
    }

    /// Whether anything of `code`'s was raised, in any direction.
    pub fn raised(&self, code: &str) -> bool {
        self.seen.iter().any(|s| s.first.code.name == code)
    }

    /// The conversation ended: one finding per (code, direction) raised more than once, at
    /// its first occurrence, with `count` and `packets`. `what` names the conversation
    /// ("WebSocket conversation", "connection").
    pub fn take(&mut self, what: &str) -> Vec<Finding> {
        std::mem::take(&mut self.seen)
            .into_iter()
            .filter(|s| s.count > 1)
            .map(|s| {
                let by = match s.first.direction {
                    Some(crate::model::Dir::ClientToServer) => " by the client",
                    Some(crate::model::Dir::ServerToClient) => " by the server",
                    None => "",
                };
                let at = s
                    .first
                    .packet
                    .map_or(String::new(), |p| format!(", first at packet {p}"));
                let list = s
                    .packets
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = if s.count > s.packets.len() as u64 {
                    ", …"
                } else {
                    ""
                };
                let message = format!(
                    "{} repeated {} times on this {what}{by}{at} (packets {list}{more}); only \
                     the first was reported on its own",
                    s.first.code.name, s.count
                );
                Finding {
                    message,
                    count: Some(s.count),
                    packets: s.packets,
                    ..s.first
                }
            })
            .collect()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        heap::vec(&self.seen)
            + self
                .seen
                .iter()
                .map(|s| heap::vec(&s.packets))
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Timestamp;
    use crate::model::{Dir, codes};

    fn at(code: &'static codes::Code, dir: Dir, packet: u64) -> Finding {
        Finding::new(code, "m")
            .conn(1)
            .at(packet, Timestamp(packet as i64))
            .dir(dir, packet * 10)
    }

    #[test]
    fn first_per_code_and_direction_then_one_summary_each() {
        let mut r = Repeats::default();
        let c = &codes::WS_UNMASKED_CLIENT_FRAME;
        assert!(r.first(&at(c, Dir::ClientToServer, 3)));
        assert!(
            r.first(&at(c, Dir::ServerToClient, 4)),
            "the other peer is seen"
        );
        for p in 5..30 {
            assert!(!r.first(&at(c, Dir::ClientToServer, p)));
        }
        assert!(r.raised(c.name));
        let out = r.take("connection");
        assert_eq!(out.len(), 1, "the server's single one has no summary");
        let f = &out[0];
        assert_eq!(f.count, Some(26));
        assert_eq!(f.packets.len(), MAX_REPEAT_PACKETS);
        assert_eq!(f.packets[0], 3);
        assert_eq!(f.packet, Some(3));
        assert_eq!(f.stream_offset, Some(30));
        assert_eq!(f.direction, Some(Dir::ClientToServer));
        assert!(f.message.contains("repeated 26 times"), "{}", f.message);
        assert!(r.take("connection").is_empty(), "taken once");
    }
}
