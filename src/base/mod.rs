//! The base every other module stands on, and that imports nothing of the crate: packet time,
//! link types, the packet view, UTC formatting and civil dates, and terminal sanitising.
//!
//! Like smoltcp's `time.rs`, these are the few things every layer needs and no layer owns.

pub mod link;
pub mod packet;
pub mod sanitize;
pub mod time;
pub mod utc;

pub use link::LinkType;
pub use packet::{OwnedPacket, PacketView};
pub use time::Timestamp;
