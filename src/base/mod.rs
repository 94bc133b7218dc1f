//! The base every other module stands on, and that imports nothing of the crate: packet time,
//! link types, the packet view, UTC formatting and civil dates, terminal sanitising, whether
//! secrets are masked, and the heap-footprint arithmetic of the memory budget.
//!
//! Like smoltcp's `time.rs`, these are the few things every layer needs and no layer owns.

pub mod ascii;
pub mod heap;
pub mod json;
pub mod link;
pub mod packet;
pub mod sanitize;
pub mod secrets;
pub mod time;
pub mod utc;

pub use link::LinkType;
pub use packet::{OwnedPacket, PacketView};
pub use time::Timestamp;
