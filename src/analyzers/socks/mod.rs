//! SOCKS4, SOCKS4a and SOCKS5 handshakes at the start of a TCP connection: what was asked
//! for, what the proxy answered, and exactly where the tunnelled bytes begin.
//!
//! Sources: RFC 1928 (SOCKS5), RFC 1929 (SOCKS5 username/password), "SOCKS: A protocol for
//! TCP proxy across firewalls" (SOCKS4) and "SOCKS 4A: A Simple Extension to SOCKS 4".
//!
//! # Contract
//!
//! * Sans-IO. [`SocksConn::feed`] takes the bytes of one direction (0 = client, any other
//!   value = server) in stream order, split anywhere, and returns how many of them it took.
//!   While [`SocksConn::state`] is [`SocksState::Handshake`] it takes everything (it buffers
//!   what it cannot place yet). Once the state is settled, `data[n..]` is not handshake: when
//!   the state is [`SocksState::Established`] it is tunnel payload, as is everything fed in
//!   that direction afterwards (for which `feed` returns 0).
//! * No byte is lost. Bytes that were taken before the handshake settled but turned out to be
//!   payload (a client that sends data right after its request, before the reply — against
//!   RFC 1928 but real; or a peer's bytes that arrived before the other side's message they
//!   depend on) are handed back by [`SocksConn::take_early_payload`] once the state is
//!   `Established`. For each direction, forward in this order: `take_early_payload(dir)`,
//!   then a gap of [`SocksConn::early_dropped`]`(dir)` bytes (non-zero only past the held
//!   bound), then `data[n..]` and later data.
//! * Exact lengths: [`SocksInfo::client_handshake_bytes`] / `server_handshake_bytes` are the
//!   handshake's length in each direction, so the tunnel starts at that stream offset.
//! * Bounded: one message may be at most [`SocksLimits::max_message`] bytes (SOCKS5 messages
//!   are at most 513 by construction; SOCKS4 user ids and host names are NUL-terminated and
//!   could be endless), and at most [`SocksLimits::max_held`] bytes are held per direction.
//!   Past that, bytes are counted, not kept, and a [`NoteKind::HeldBytesDropped`] is noted.
//! * Peer garbage is data: a wrong version byte, an unknown address type or a message over
//!   the bound is [`SocksState::Failed`] with a note; a refusal at any step (no acceptable
//!   method, failed authentication, reply code other than success) is
//!   [`SocksState::Refused`]; a gap, or an authentication method whose sub-negotiation this
//!   module does not follow (GSSAPI, ...), is [`SocksState::Lost`]. Every note has the
//!   direction and the stream offset of the byte concerned. Nothing here panics: fields are
//!   read through a cursor that returns `None` past the end.
//! * Credentials: the password is not kept once its message is parsed (until then its bytes
//!   are held like any others), only its length and a masked form (its first character,
//!   none if it has only one, then `…(N more)`); sending one is noted
//!   ([`NoteKind::CleartextCredentials`]).
//! * Messages are parsed in the protocol's order (greeting, method selection, RFC 1929
//!   request and status, request, reply, a BIND's second reply): a message waits, held, until
//!   the one before it in the other direction is parsed. So the result does not depend on how
//!   the caller interleaves the two directions, only on the bytes of each.
//! * `Established` after UDP ASSOCIATE means the association is up; the datagrams travel over
//!   UDP to [`SocksInfo::bound`], and the TCP connection carries nothing more by design.
//!   A gap after the handshake is the tunnel's business: [`SocksConn::gap`] ignores it.

use crate::base::heap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::model::codes::{self, Code};

pub use super::layer::Prefix;

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocksState {
    /// Still negotiating; `feed` takes every byte.
    Handshake,
    /// The proxy granted the request; what follows in each direction is the tunnel.
    Established,
    /// The proxy said no (method, authentication or request); see `info().reply`.
    Refused,
    /// A protocol error (see `notes()`); the bytes are not followed further.
    Failed,
    /// A gap, or a negotiation this module cannot follow.
    Lost,
}

/// Bounds per connection.
#[derive(Clone, Copy, Debug)]
pub struct SocksLimits {
    /// Longest single handshake message.
    pub max_message: usize,
    /// Bytes held per direction before the handshake settles (unparsed and early payload).
    pub max_held: usize,
}

impl Default for SocksLimits {
    fn default() -> Self {
        SocksLimits {
            max_message: 1024,
            max_held: 64 * 1024,
        }
    }
}

/// What the handshake said. Fields stay `None` until the message carrying them is parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocksInfo {
    /// 4 or 5 (SOCKS4a is version 4); 0 before the first client byte.
    pub version: u8,
    /// "socks4", "socks4a", "socks5"; empty before the first client byte.
    pub variant: &'static str,
    pub methods_offered: Vec<u8>,
    pub method_chosen: Option<u8>,
    /// RFC 1929 UNAME, or the SOCKS4 user id (possibly empty); lossy UTF-8.
    pub username: Option<String>,
    pub password_len: Option<usize>,
    pub password_masked: Option<String>,
    pub auth_ok: Option<bool>,
    /// 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE (SOCKS5 only).
    pub command: Option<u8>,
    /// `1.2.3.4:80`, `[2001:db8::1]:443`, `example.com:443`.
    pub target: Option<String>,
    /// "ipv4", "ipv6", "domain".
    pub address_type: Option<&'static str>,
    /// SOCKS5 REP or SOCKS4 CD of the last reply parsed.
    pub reply: Option<u8>,
    pub reply_text: Option<&'static str>,
    /// BND.ADDR:BND.PORT of the (first) reply.
    pub bound: Option<String>,
    /// BIND only: the address of the peer that connected, from the second reply.
    pub bind_peer: Option<String>,
    pub client_handshake_bytes: u64,
    pub server_handshake_bytes: u64,
}

/// The message a note is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Greeting,
    MethodSelection,
    AuthRequest,
    AuthReply,
    Request,
    Reply,
    SecondReply,
}

/// What was noticed. [`NoteKind::code`] gives a stable name for findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// The first client byte is neither 4 nor 5.
    NotSocks { found: u8 },
    /// A version byte other than the message's (5; RFC 1929 §2: 1; SOCKS4 reply: 0).
    /// Fatal except the tolerated SOCKS4 reply version 4 and RFC 1929 reply version 5.
    BadVersion { message: Message, found: u8 },
    /// NMETHODS = 0 (RFC 1928 §3 requires at least one).
    NoMethods,
    /// The server chose a method the client did not offer (RFC 1928 §3).
    MethodNotOffered { method: u8 },
    /// METHOD X'FF': no acceptable method; the client must close (RFC 1928 §3).
    NoAcceptableMethod,
    /// A method whose sub-negotiation is not followed (GSSAPI, private methods).
    UnsupportedMethod { method: u8 },
    /// Username and password sent in cleartext (RFC 1929 §2, RFC 1929 §4).
    CleartextCredentials,
    /// RFC 1929 status other than 0: authentication failed.
    AuthFailed { status: u8 },
    /// An empty field the protocol says has at least one byte (ULEN, PLEN, domain, 4a host).
    EmptyField { field: &'static str },
    /// A command other than CONNECT, BIND, UDP ASSOCIATE (SOCKS4: CONNECT, BIND).
    UnknownCommand { command: u8 },
    /// RSV is not X'00' (RFC 1928 §4, §6).
    NonZeroReserved { message: Message, found: u8 },
    /// ATYP other than 1, 3, 4 (RFC 1928 §5): the message's length is unknown.
    UnknownAddressType { message: Message, found: u8 },
    /// A message longer than [`SocksLimits::max_message`].
    MessageTooLong { limit: usize },
    /// The reply is not a success (SOCKS5 REP != 0, SOCKS4 CD != 90).
    Refused { code: u8 },
    /// The client sent bytes before the reply granted the request (RFC 1928 §6 has it wait);
    /// they are kept and handed back by `take_early_payload`.
    EarlyPayload { bytes: usize },
    /// Bytes taken while negotiating that are neither handshake nor tunnel, because the
    /// handshake did not establish one (the unparsed message and anything sent after it).
    HeldDiscarded { bytes: usize },
    /// The held-bytes bound was hit; from this offset on, bytes are counted, not kept.
    HeldBytesDropped { limit: usize },
    /// A gap in the handshake: it cannot be followed.
    Gap { len: u64 },
}

impl NoteKind {
    /// Stable code, for findings.
    pub fn code(&self) -> &'static Code {
        match self {
            NoteKind::NotSocks { .. } => &codes::SOCKS_NOT_SOCKS,
            NoteKind::BadVersion { .. } => &codes::SOCKS_BAD_VERSION,
            NoteKind::NoMethods => &codes::SOCKS_NO_METHODS,
            NoteKind::MethodNotOffered { .. } => &codes::SOCKS_METHOD_NOT_OFFERED,
            NoteKind::NoAcceptableMethod => &codes::SOCKS_NO_ACCEPTABLE_METHOD,
            NoteKind::UnsupportedMethod { .. } => &codes::SOCKS_UNSUPPORTED_METHOD,
            NoteKind::CleartextCredentials => &codes::SOCKS_CLEARTEXT_CREDENTIALS,
            NoteKind::AuthFailed { .. } => &codes::SOCKS_AUTH_FAILED,
            NoteKind::EmptyField { .. } => &codes::SOCKS_EMPTY_FIELD,
            NoteKind::UnknownCommand { .. } => &codes::SOCKS_UNKNOWN_COMMAND,
            NoteKind::NonZeroReserved { .. } => &codes::SOCKS_NONZERO_RESERVED,
            NoteKind::UnknownAddressType { .. } => &codes::SOCKS_UNKNOWN_ADDRESS_TYPE,
            NoteKind::MessageTooLong { .. } => &codes::SOCKS_MESSAGE_TOO_LONG,
            NoteKind::Refused { .. } => &codes::SOCKS_REFUSED,
            NoteKind::EarlyPayload { .. } => &codes::SOCKS_EARLY_PAYLOAD,
            NoteKind::HeldDiscarded { .. } => &codes::SOCKS_HELD_DISCARDED,
            NoteKind::HeldBytesDropped { .. } => &codes::SOCKS_HELD_BYTES_DROPPED,
            NoteKind::Gap { .. } => &codes::SOCKS_GAP,
        }
    }
}

/// One note: direction (0 client, 1 server), stream offset in that direction, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocksNote {
    pub dir: usize,
    pub offset: u64,
    pub kind: NoteKind,
}

/// Whether a client's first bytes look like a SOCKS4/4a request or a SOCKS5 greeting.
/// `Maybe` means "plausible so far, need more bytes". HTTP, TLS, SSH and text say `No` on
/// their first byte.
pub fn looks_like_socks(b: &[u8]) -> Prefix {
    match b.first() {
        None => Prefix::Maybe,
        Some(5) => looks_like_socks5(b),
        Some(4) => looks_like_socks4(b),
        Some(_) => Prefix::No,
    }
}

fn looks_like_socks5(b: &[u8]) -> Prefix {
    let Some(&n) = b.get(1) else {
        return Prefix::Maybe;
    };
    let n = usize::from(n);
    let methods = b.get(2..).unwrap_or_default();
    // IANA: 0x00-0x09 assigned, 0x80-0xFE private; 0xFF is never offered.
    let plausible = |m: &u8| matches!(m, 0x00..=0x09 | 0x80..=0xFE);
    if n == 0 || !methods.iter().take(n).all(plausible) {
        return Prefix::No;
    }
    match methods.get(n) {
        _ if methods.len() < n => Prefix::Maybe,
        // Nothing more, or a pipelined RFC 1929 request or SOCKS5 request.
        None | Some(1 | 5) => Prefix::Yes,
        Some(_) => Prefix::No,
    }
}

fn looks_like_socks4(b: &[u8]) -> Prefix {
    match b.get(1) {
        None => return Prefix::Maybe,
        Some(1 | 2) => {}
        Some(_) => return Prefix::No,
    }
    let Some(ip) = b.get(4..8) else {
        return Prefix::Maybe;
    };
    if ip == [0, 0, 0, 0] {
        return Prefix::No;
    }
    // A NUL-terminated printable string of at most 255 bytes (empty allowed for the user id).
    let field = |s: &[u8], empty_ok: bool| match s.iter().position(|&c| c == 0) {
        Some(i) if (i > 0 || empty_ok) && s[..i].iter().all(|&c| c >= 0x20 && c != 0x7F) => {
            Ok(i + 1)
        }
        None if s.len() <= 255 && s.iter().all(|&c| c >= 0x20 && c != 0x7F) => Err(Prefix::Maybe),
        _ => Err(Prefix::No),
    };
    let rest = b.get(8..).unwrap_or_default();
    let user = match field(rest, true) {
        Ok(n) => n,
        Err(p) => return p,
    };
    if ip[..3] == [0, 0, 0] {
        let host = rest.get(user..).unwrap_or_default();
        if let Err(p) = field(host, false) {
            return p;
        }
    }
    Prefix::Yes
}

/// The SOCKS handshake of one TCP connection.
#[derive(Debug)]
pub struct SocksConn {
    limits: SocksLimits,
    state: SocksState,
    settled: bool,
    info: SocksInfo,
    notes: Vec<SocksNote>,
    /// Bytes taken but not yet parsed, per direction; once established, early payload.
    held: [Vec<u8>; 2],
    dropped: [u64; 2],
    client: Client,
    server: Server,
}

/// The client's next message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Version,
    Greeting,
    /// Waiting for the server's method choice to know what comes next.
    AwaitMethod,
    Auth,
    /// Waiting for the RFC 1929 status: the request follows only a success.
    AwaitAuth,
    Request5,
    Request4,
    Done,
}

/// The server's next message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    Version,
    MethodSelection,
    AuthReply,
    Reply5 { second: bool },
    Reply4 { second: bool },
    Done,
}

impl Default for SocksConn {
    fn default() -> Self {
        Self::new()
    }
}

impl SocksConn {
    pub fn new() -> Self {
        Self::with_limits(SocksLimits::default())
    }

    pub fn with_limits(limits: SocksLimits) -> Self {
        SocksConn {
            limits,
            state: SocksState::Handshake,
            settled: false,
            info: SocksInfo::default(),
            notes: Vec::new(),
            held: [Vec::new(), Vec::new()],
            dropped: [0; 2],
            client: Client::Version,
            server: Server::Version,
        }
    }

    pub fn state(&self) -> SocksState {
        self.state
    }

    pub fn info(&self) -> &SocksInfo {
        &self.info
    }

    pub fn notes(&self) -> &[SocksNote] {
        &self.notes
    }

    /// Feeds bytes of direction `dir` (0 client, otherwise server); returns how many were
    /// taken (see the module doc). `data[n..]` is tunnel payload if the state is `Established`.
    pub fn feed(&mut self, dir: usize, data: &[u8]) -> usize {
        let d = usize::from(dir != 0);
        if self.state != SocksState::Handshake {
            return 0;
        }
        let held = self.held[d].len();
        let room = if self.dropped[d] > 0 {
            0 // keep the order: nothing is kept after a dropped byte
        } else {
            self.limits.max_held.saturating_sub(held)
        };
        let take = room.min(data.len());
        self.held[d].extend_from_slice(data.get(..take).unwrap_or_default());
        self.advance();
        if self.state == SocksState::Handshake {
            let lost = data.len() - take;
            if lost > 0 {
                if self.dropped[d] == 0 {
                    let at = self.held[d].len();
                    let limit = self.limits.max_held;
                    self.note(d, at, NoteKind::HeldBytesDropped { limit });
                }
                self.dropped[d] = self.dropped[d].saturating_add(lost as u64);
            }
            return data.len();
        }
        // Settled by this call: what is left of this call's bytes is not handshake; give it
        // back through the return value, so only earlier bytes count as early payload.
        let mine = self.held[d].len().min(take);
        self.held[d].truncate(self.held[d].len() - mine);
        self.settle();
        take - mine
    }

    /// A gap of `n` bytes in direction `dir`: during the handshake, it is lost.
    pub fn gap(&mut self, dir: usize, n: u64) {
        let d = usize::from(dir != 0);
        if self.state == SocksState::Handshake && n > 0 {
            let at = self.held[d].len();
            self.set(SocksState::Lost, d, at, NoteKind::Gap { len: n });
            self.settle();
        }
    }

    /// Once `Established`: the bytes of `dir` taken before the handshake settled that are
    /// tunnel payload, in stream order (each byte is handed back once). Otherwise empty.
    pub fn take_early_payload(&mut self, dir: usize) -> Vec<u8> {
        let d = usize::from(dir != 0);
        if self.state == SocksState::Established {
            std::mem::take(&mut self.held[d])
        } else {
            Vec::new()
        }
    }

    /// Payload bytes of `dir` that came after the early payload but were not kept (over
    /// [`SocksLimits::max_held`]); a gap of that size precedes the rest of the tunnel.
    pub fn early_dropped(&self, dir: usize) -> u64 {
        self.dropped[usize::from(dir != 0)]
    }

    fn base(&self, d: usize) -> u64 {
        [
            self.info.client_handshake_bytes,
            self.info.server_handshake_bytes,
        ][d]
    }

    fn note(&mut self, dir: usize, at: usize, kind: NoteKind) {
        let offset = self.base(dir).saturating_add(at as u64);
        self.notes.push(SocksNote { dir, offset, kind });
    }

    fn set(&mut self, state: SocksState, dir: usize, at: usize, kind: NoteKind) {
        self.state = state;
        self.note(dir, at, kind);
    }

    fn fail(&mut self, dir: usize, at: usize, kind: NoteKind) {
        self.set(SocksState::Failed, dir, at, kind);
    }

    /// `n` bytes of `dir` were a handshake message.
    fn consume(&mut self, dir: usize, n: usize) {
        self.held[dir].drain(..n.min(self.held[dir].len()));
        let c = if dir == 0 {
            &mut self.info.client_handshake_bytes
        } else {
            &mut self.info.server_handshake_bytes
        };
        *c = c.saturating_add(n as u64);
    }

    /// Parses every message that can be parsed.
    fn advance(&mut self) {
        while self.state == SocksState::Handshake && (self.step_client() || self.step_server()) {}
        if self.state == SocksState::Handshake
            && self.client == Client::Done
            && self.server == Server::Done
        {
            self.state = SocksState::Established;
        }
    }

    /// Once, when the state leaves `Handshake`: note early payload, drop it unless established.
    fn settle(&mut self) {
        if self.settled || self.state == SocksState::Handshake {
            return;
        }
        self.settled = true;
        for d in 0..2 {
            let bytes = self.held[d].len();
            if self.state == SocksState::Established {
                if bytes > 0 || self.dropped[d] > 0 {
                    self.note(d, 0, NoteKind::EarlyPayload { bytes });
                }
            } else {
                if bytes > 0 {
                    self.note(d, 0, NoteKind::HeldDiscarded { bytes });
                }
                self.held[d] = Vec::new();
            }
        }
    }

    fn step_client(&mut self) -> bool {
        let b = &self.held[0];
        let max = self.limits.max_message;
        match self.client {
            Client::Version => match b.first() {
                None => return false,
                Some(5) => {
                    (self.info.version, self.info.variant) = (5, "socks5");
                    self.client = Client::Greeting;
                }
                Some(4) => {
                    (self.info.version, self.info.variant) = (4, "socks4");
                    self.client = Client::Request4;
                }
                Some(&found) => self.fail(0, 0, NoteKind::NotSocks { found }),
            },
            Client::Greeting => match bounded(greeting(b), b.len(), max) {
                P::Need => return false,
                P::Bad(at, k) => self.fail(0, at, k),
                P::Got(n, methods) => {
                    if methods.is_empty() {
                        self.note(0, 1, NoteKind::NoMethods);
                    }
                    self.info.methods_offered = methods;
                    self.consume(0, n);
                    self.client = Client::AwaitMethod;
                }
            },
            Client::AwaitMethod => match self.info.method_chosen {
                Some(0) => self.client = Client::Request5,
                Some(2) => self.client = Client::Auth,
                _ => return false, // not chosen yet, or the server side settles it
            },
            Client::Auth => match bounded(auth_request(b), b.len(), max) {
                P::Need => return false,
                P::Bad(at, k) => self.fail(0, at, k),
                P::Got(n, a) => {
                    self.note(0, 0, NoteKind::CleartextCredentials);
                    if a.user.is_empty() {
                        self.note(0, 1, NoteKind::EmptyField { field: "ULEN" });
                    }
                    if a.pass_len == 0 {
                        let at = 2 + a.user.len();
                        self.note(0, at, NoteKind::EmptyField { field: "PLEN" });
                    }
                    self.info.username = Some(a.user);
                    self.info.password_len = Some(a.pass_len);
                    self.info.password_masked = Some(a.pass_masked);
                    self.consume(0, n);
                    self.client = Client::AwaitAuth;
                }
            },
            Client::AwaitAuth => match self.info.auth_ok {
                Some(true) => self.client = Client::Request5,
                _ => return false,
            },
            Client::Request5 => match bounded(socks5_message(b, Message::Request), b.len(), max) {
                P::Need => return false,
                P::Bad(at, k) => self.fail(0, at, k),
                P::Got(n, m) => {
                    if !(1..=3).contains(&m.code) {
                        let command = m.code;
                        self.note(0, 1, NoteKind::UnknownCommand { command });
                    }
                    if m.rsv != 0 {
                        let (message, found) = (Message::Request, m.rsv);
                        self.note(0, 2, NoteKind::NonZeroReserved { message, found });
                    }
                    self.request(&m.target, m.code);
                    self.consume(0, n);
                    self.client = Client::Done;
                }
            },
            Client::Request4 => match bounded(socks4_request(b, max), b.len(), max) {
                P::Need => return false,
                P::Bad(at, k) => self.fail(0, at, k),
                P::Got(n, r) => {
                    if !(1..=2).contains(&r.command) {
                        let command = r.command;
                        self.note(0, 1, NoteKind::UnknownCommand { command });
                    }
                    if matches!(&r.target.addr, Addr::Domain(h) if h.is_empty()) {
                        self.note(0, n - 1, NoteKind::EmptyField { field: "HOSTNAME" });
                    }
                    if matches!(r.target.addr, Addr::Domain(_)) {
                        self.info.variant = "socks4a";
                    }
                    self.info.username = Some(r.user);
                    self.request(&r.target, r.command);
                    self.consume(0, n);
                    self.client = Client::Done;
                }
            },
            Client::Done => return false,
        }
        true
    }

    /// Records a request's command and target.
    fn request(&mut self, t: &Target, command: u8) {
        if matches!(&t.addr, Addr::Domain(h) if h.is_empty()) && self.info.version == 5 {
            self.note(0, 4, NoteKind::EmptyField { field: "DST.ADDR" });
        }
        self.info.command = Some(command);
        self.info.target = Some(t.to_string());
        self.info.address_type = Some(t.addr.kind());
    }

    fn step_server(&mut self) -> bool {
        let b = &self.held[1];
        let client = self.client;
        match self.server {
            Server::Version => match self.info.version {
                5 => self.server = Server::MethodSelection,
                4 => self.server = Server::Reply4 { second: false },
                _ => return false,
            },
            // Each server message waits for the client message it answers.
            Server::MethodSelection if client != Client::Greeting => match two(b) {
                None => return false,
                Some((5, method)) => {
                    self.info.method_chosen = Some(method);
                    if method != 0xFF && !self.info.methods_offered.contains(&method) {
                        self.note(1, 1, NoteKind::MethodNotOffered { method });
                    }
                    match method {
                        0x00 => self.server = Server::Reply5 { second: false },
                        0x02 => self.server = Server::AuthReply,
                        0xFF => self.set(SocksState::Refused, 1, 1, NoteKind::NoAcceptableMethod),
                        _ => {
                            let kind = NoteKind::UnsupportedMethod { method };
                            self.set(SocksState::Lost, 1, 1, kind);
                        }
                    }
                    self.consume(1, 2);
                }
                Some((found, _)) => {
                    let message = Message::MethodSelection;
                    self.fail(1, 0, NoteKind::BadVersion { message, found });
                }
            },
            Server::AuthReply if client == Client::AwaitAuth => {
                let Some((ver, status)) = two(b) else {
                    return false;
                };
                let message = Message::AuthReply;
                match ver {
                    1 => {}
                    // Some servers answer with the SOCKS version; tolerated, noted.
                    5 => self.note(1, 0, NoteKind::BadVersion { message, found: 5 }),
                    found => {
                        self.fail(1, 0, NoteKind::BadVersion { message, found });
                        return true;
                    }
                }
                self.info.auth_ok = Some(status == 0);
                if status == 0 {
                    self.server = Server::Reply5 { second: false };
                } else {
                    self.set(SocksState::Refused, 1, 1, NoteKind::AuthFailed { status });
                }
                self.consume(1, 2);
            }
            Server::Reply5 { second } if client == Client::Done => {
                let message = reply_message(second);
                let max = self.limits.max_message;
                match bounded(socks5_message(b, message), b.len(), max) {
                    P::Need => return false,
                    P::Bad(at, k) => self.fail(1, at, k),
                    P::Got(n, m) => {
                        if m.rsv != 0 {
                            let found = m.rsv;
                            self.note(1, 2, NoteKind::NonZeroReserved { message, found });
                        }
                        let text = socks5_reply_text(m.code);
                        self.reply(second, m.code, text, m.code == 0, &m.target);
                        self.consume(1, n);
                    }
                }
            }
            Server::Reply4 { second } if client == Client::Done => match socks4_reply(b) {
                None => return false,
                Some((vn, cd, target)) => {
                    let message = reply_message(second);
                    match vn {
                        0 => {}
                        4 => self.note(1, 0, NoteKind::BadVersion { message, found: 4 }),
                        found => {
                            self.fail(1, 0, NoteKind::BadVersion { message, found });
                            return true;
                        }
                    }
                    self.reply(second, cd, socks4_reply_text(cd), cd == 90, &target);
                    self.consume(1, 8);
                }
            },
            _ => return false,
        }
        true
    }

    /// Records a reply and moves on: to a second reply after a granted BIND's first, else done.
    fn reply(&mut self, second: bool, code: u8, text: &'static str, ok: bool, t: &Target) {
        self.info.reply = Some(code);
        self.info.reply_text = Some(text);
        if second {
            self.info.bind_peer = Some(t.to_string());
        } else {
            self.info.bound = Some(t.to_string());
        }
        if !ok {
            self.set(SocksState::Refused, 1, 1, NoteKind::Refused { code });
        }
        let bind = ok && self.info.command == Some(2);
        self.server = match self.server {
            Server::Reply5 { second: false } if bind => Server::Reply5 { second: true },
            Server::Reply4 { second: false } if bind => Server::Reply4 { second: true },
            _ => Server::Done,
        };
    }
}

fn reply_message(second: bool) -> Message {
    if second {
        Message::SecondReply
    } else {
        Message::Reply
    }
}

/// A parse result: more bytes needed, malformed at a relative offset, or a message of `n`
/// bytes.
enum P<T> {
    Need,
    Bad(usize, NoteKind),
    Got(usize, T),
}

/// Applies [`SocksLimits::max_message`] to a parse of `held` bytes: a message longer than
/// `max` is an error whether it arrived whole or is still incomplete.
fn bounded<T>(p: P<T>, held: usize, max: usize) -> P<T> {
    match p {
        P::Got(n, _) if n > max => P::Bad(0, NoteKind::MessageTooLong { limit: max }),
        P::Need if held >= max => P::Bad(0, NoteKind::MessageTooLong { limit: max }),
        p => p,
    }
}

/// A cursor that cannot read past the end.
struct Rd<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Rd<'a> {
    fn new(b: &'a [u8]) -> Self {
        Rd { b, pos: 0 }
    }
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let s = self.take(2)?;
        Some(u16::from_be_bytes([s[0], s[1]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    /// Up to and including a NUL within `max` bytes: `Err(true)` if over `max`.
    fn cstr(&mut self, max: usize) -> Result<&'a [u8], bool> {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        match rest.iter().take(max).position(|&c| c == 0) {
            Some(i) => {
                self.pos += i + 1;
                Ok(rest.get(..i).unwrap_or_default())
            }
            None => Err(rest.len() >= max),
        }
    }
}

/// `Some(v)` or return `P::Need`.
macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return P::Need,
        }
    };
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Addr {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Domain(String),
}

impl Addr {
    fn kind(&self) -> &'static str {
        match self {
            Addr::V4(_) => "ipv4",
            Addr::V6(_) => "ipv6",
            Addr::Domain(_) => "domain",
        }
    }
}

#[derive(Clone, Debug)]
struct Target {
    addr: Addr,
    port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.addr {
            Addr::V4(a) => write!(f, "{a}:{}", self.port),
            Addr::V6(a) => write!(f, "[{a}]:{}", self.port),
            Addr::Domain(h) => write!(f, "{h}:{}", self.port),
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Two bytes, for the fixed-size SOCKS5 method selection and RFC 1929 reply.
fn two(b: &[u8]) -> Option<(u8, u8)> {
    Some((*b.first()?, *b.get(1)?))
}

/// RFC 1928 §3: VER NMETHODS METHODS.
fn greeting(b: &[u8]) -> P<Vec<u8>> {
    let mut r = Rd::new(b);
    let ver = need!(r.u8());
    if ver != 5 {
        let message = Message::Greeting;
        return P::Bad(
            0,
            NoteKind::BadVersion {
                message,
                found: ver,
            },
        );
    }
    let n = need!(r.u8());
    let methods = need!(r.take(usize::from(n)));
    P::Got(r.pos, methods.to_vec())
}

struct Auth {
    user: String,
    pass_len: usize,
    pass_masked: String,
}

/// RFC 1929 §2: VER ULEN UNAME PLEN PASSWD. The password itself is not kept.
fn auth_request(b: &[u8]) -> P<Auth> {
    let mut r = Rd::new(b);
    let ver = need!(r.u8());
    if ver != 1 {
        let message = Message::AuthRequest;
        return P::Bad(
            0,
            NoteKind::BadVersion {
                message,
                found: ver,
            },
        );
    }
    let ulen = need!(r.u8());
    let user = need!(r.take(usize::from(ulen)));
    let plen = need!(r.u8());
    let pass = need!(r.take(usize::from(plen)));
    P::Got(
        r.pos,
        Auth {
            user: lossy(user),
            pass_len: pass.len(),
            pass_masked: mask(pass),
        },
    )
}

/// First character, then how many more; a one-character password shows none.
fn mask(pass: &[u8]) -> String {
    let s = String::from_utf8_lossy(pass);
    if crate::base::secrets::revealed() {
        return s.into_owned();
    }
    let mut chars = s.chars();
    match (chars.next(), chars.count()) {
        (None, _) => String::new(),
        (Some(_), 0) => "…(1 more)".to_string(),
        (Some(c), more) => format!("{c}…({more} more)"),
    }
}

/// A SOCKS5 request or reply (RFC 1928 §4, §6): VER CMD/REP RSV ATYP ADDR PORT.
struct Msg5 {
    code: u8,
    rsv: u8,
    target: Target,
}

fn socks5_message(b: &[u8], message: Message) -> P<Msg5> {
    let mut r = Rd::new(b);
    let ver = need!(r.u8());
    if ver != 5 {
        return P::Bad(
            0,
            NoteKind::BadVersion {
                message,
                found: ver,
            },
        );
    }
    let code = need!(r.u8());
    let rsv = need!(r.u8());
    let addr = match need!(r.u8()) {
        1 => Addr::V4(Ipv4Addr::from(need!(r.array::<4>()))),
        4 => Addr::V6(Ipv6Addr::from(need!(r.array::<16>()))),
        3 => {
            let n = need!(r.u8());
            Addr::Domain(lossy(need!(r.take(usize::from(n)))))
        }
        found => return P::Bad(3, NoteKind::UnknownAddressType { message, found }),
    };
    let port = need!(r.u16());
    let target = Target { addr, port };
    P::Got(r.pos, Msg5 { code, rsv, target })
}

struct Req4 {
    command: u8,
    user: String,
    target: Target,
}

/// SOCKS4: VN CD DSTPORT DSTIP USERID NUL; SOCKS4a: DSTIP 0.0.0.x (x != 0), then HOST NUL.
fn socks4_request(b: &[u8], max: usize) -> P<Req4> {
    let mut r = Rd::new(b);
    let _vn = need!(r.u8()); // 4, checked by the caller
    let command = need!(r.u8());
    let port = need!(r.u16());
    let ip = need!(r.array::<4>());
    let too_long = |at| P::Bad(at, NoteKind::MessageTooLong { limit: max });
    let user = match r.cstr(max.saturating_sub(8)) {
        Ok(u) => lossy(u),
        Err(true) => return too_long(8),
        Err(false) => return P::Need,
    };
    let addr = if ip[..3] == [0, 0, 0] && ip[3] != 0 {
        let at = r.pos;
        match r.cstr(max.saturating_sub(at)) {
            Ok(h) => Addr::Domain(lossy(h)),
            Err(true) => return too_long(at),
            Err(false) => return P::Need,
        }
    } else {
        Addr::V4(Ipv4Addr::from(ip))
    };
    let target = Target { addr, port };
    P::Got(
        r.pos,
        Req4 {
            command,
            user,
            target,
        },
    )
}

/// SOCKS4 reply: VN CD DSTPORT DSTIP, 8 bytes.
fn socks4_reply(b: &[u8]) -> Option<(u8, u8, Target)> {
    let mut r = Rd::new(b);
    let (vn, cd, port) = (r.u8()?, r.u8()?, r.u16()?);
    let addr = Addr::V4(Ipv4Addr::from(r.array::<4>()?));
    Some((vn, cd, Target { addr, port }))
}

/// RFC 1928 §6 REP.
pub fn socks5_reply_text(code: u8) -> &'static str {
    match code {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unassigned",
    }
}

/// SOCKS4 CD in a reply.
pub fn socks4_reply_text(code: u8) -> &'static str {
    match code {
        90 => "request granted",
        91 => "request rejected or failed",
        92 => "request rejected: the SOCKS server cannot connect to identd on the client",
        93 => "request rejected: the client program and identd report different user-ids",
        _ => "unassigned",
    }
}

impl SocksConn {
    /// Heap bytes held: bytes held back during the handshake (bounded), what was learnt, the
    /// notes.
    pub fn heap_bytes(&self) -> usize {
        let i = &self.info;
        heap::vec(&self.held[0])
            + heap::vec(&self.held[1])
            + heap::vec(&i.methods_offered)
            + i.username.as_ref().map_or(0, heap::string)
            + i.password_masked.as_ref().map_or(0, heap::string)
            + i.target.as_ref().map_or(0, heap::string)
            + heap::vec(&self.notes)
    }
}

#[cfg(test)]
mod tests;
