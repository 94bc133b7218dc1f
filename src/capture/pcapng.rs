//! The pcapng numbers the reader ([`super::file`]) and the writer ([`super::pcapng_writer`])
//! share: block types and option codes (draft-ietf-opsawg-pcapng §4, §11).

/// Section Header Block; also the file's magic.
pub const SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block.
pub const IDB: u32 = 0x0000_0001;
/// Packet Block (obsolete, still read).
pub const PB: u32 = 0x0000_0002;
/// Simple Packet Block.
pub const SPB: u32 = 0x0000_0003;
/// Enhanced Packet Block.
pub const EPB: u32 = 0x0000_0006;
/// Decryption Secrets Block.
pub const DSB: u32 = 0x0000_000A;
/// A Decryption Secrets Block's secrets type for an NSS key log ("TLSK", pcapng §4.7).
pub const SECRETS_TLS_KEY_LOG: u32 = 0x544c_534b;
/// The Section Header Block's byte-order magic, as written by the file's byte order.
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// End of an option list.
pub const OPT_ENDOFOPT: u16 = 0;
/// `shb_userappl`: the application that wrote the section.
pub const OPT_SHB_USERAPPL: u16 = 4;
/// `if_name`.
pub const OPT_IF_NAME: u16 = 2;
/// `if_tsresol`: the interface's timestamp resolution.
pub const OPT_IF_TSRESOL: u16 = 9;
/// `if_filter`.
pub const OPT_IF_FILTER: u16 = 11;
/// `if_tsoffset`: seconds added to the interface's timestamps.
pub const OPT_IF_TSOFFSET: u16 = 14;
