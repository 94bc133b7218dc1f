//! WebSocket cases: a frame declaring a 2^63 − 1 byte payload (issue 13 item 4) and a
//! permessage-deflate bomb.

use super::codings;
use super::wire::{Conn, Pcap, Side};

/// The payload length the huge frame declares: the largest RFC 6455 §5.2 allows.
pub const HUGE: u64 = (1 << 63) - 1;

/// The handshake of RFC 6455 §1.3 (its sample key and accept), with `ext` (fields ending in
/// CRLF) in both the request and the response.
fn upgrade(p: &mut Pcap, ext: &str) -> Conn {
    let mut c = Conn::new(0);
    c.handshake(p);
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: stress.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    );
    c.send(p, Side::Client, req.as_bytes());
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{ext}\r\n"
    );
    c.send(p, Side::Server, resp.as_bytes());
    c
}

/// An unmasked (server) frame header with the shortest length encoding (RFC 6455 §5.2).
fn frame_head(first: u8, len: u64) -> Vec<u8> {
    match len {
        0..=125 => vec![first, len as u8],
        126..=0xffff => {
            let mut h = vec![first, 126];
            h.extend_from_slice(&(len as u16).to_be_bytes());
            h
        }
        _ => {
            let mut h = vec![first, 127];
            h.extend_from_slice(&len.to_be_bytes());
            h
        }
    }
}

/// A server binary frame declaring [`HUGE`] payload bytes, of which `kib` KiB follow; then
/// the connection closes.
pub fn ws_huge_frame(p: &mut Pcap, kib: u64) {
    let mut c = upgrade(p, "");
    let mut f = frame_head(0x82, HUGE);
    f.extend_from_slice(&codings::text(kib as usize * 1024));
    c.send(p, Side::Server, &f);
    c.close(p);
}

/// A server message compressed with permessage-deflate that inflates to `mib` MiB of zeros.
pub fn ws_deflate_bomb(p: &mut Pcap, mib: u64) {
    let mut c = upgrade(p, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    let payload = codings::ws_deflate_zeros(mib);
    // FIN, RSV1 (compressed), binary.
    let mut f = frame_head(0xc2, payload.len() as u64);
    f.extend_from_slice(&payload);
    c.send(p, Side::Server, &f);
    c.close(p);
}
