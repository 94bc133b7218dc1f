//! TLS decryption of one connection, sans-IO: the bytes of each direction in, the decrypted
//! application data out, with the stream offset of the record that carried it.
//!
//! Contract:
//!
//! - **Records.** Each direction's bytes are cut into records (5-byte header, body at most
//!   2^14 + 2048 bytes); a record is held until it is complete (one record per direction: at
//!   most 18 KiB). A header that is not TLS stops the direction (the sniffer says why).
//! - **When records are encrypted.** TLS 1.3: every `application_data` record after the
//!   ServerHello (the handshake, then the application data; `change_cipher_spec` records are
//!   the middlebox-compatibility dummies). TLS 1.2 and below: every record of a direction after
//!   its `change_cipher_spec`. The version and suite come from the ServerHello, the randoms from
//!   both hellos (the [`super::TlsSniffer`] parsed them, and is fed first).
//! - **Keys.** Looked up in the [`KeyLog`] by the ClientHello's random when the first encrypted
//!   record comes. TLS 1.3: the handshake traffic secrets until each side's Finished, then the
//!   application secrets, then each KeyUpdate's next one; 0-RTT data with the early secret when
//!   it is logged (else skipped, as a server that rejects it does). TLS 1.2: the key block from
//!   the master secret and both randoms.
//! - **What could not be done is said** ([`DecNote`]), once per connection or direction, and
//!   that direction (or the connection) is not decrypted further: no keys, a suite hopscope does
//!   not decrypt, a handshake not captured, a record that does not authenticate, a gap (records
//!   cannot be found again after one). What was decrypted before stays.
//! - **Held for keys.** With a hold bound (live capture: the client writes its key log while
//!   the capture runs), encrypted records wait for their keys up to that many bytes; the keys
//!   are looked for again at each new record. Without one, a miss is final.

use super::crypto::{CryptoError, Protection};
use super::keylog::{KeyLog, Secrets};
use super::suites::{self, Suite};
use super::{ClientHelloInfo, ServerHelloInfo};
use crate::base::heap;

/// Largest record body: TLS 1.2 ciphertext, 2^14 + 2048 (RFC 5246 §6.2.3).
const MAX_BODY: usize = (1 << 14) + 2048;
/// Decrypted handshake bytes held per direction while a message is incomplete.
const MAX_HANDSHAKE: usize = 64 << 10;
const CCS: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
/// ClientHello extension `early_data` (RFC 8446 §4.2.10).
const EARLY_DATA: u16 = 42;
/// ServerHello extension `encrypt_then_mac` (RFC 7366).
const ENCRYPT_THEN_MAC: u16 = 22;
/// Bytes of TLS 1.3 0-RTT records held until the ServerHello is seen.
const EARLY_HOLD: usize = 64 << 10;

/// What decryption met that it could not follow; each stops what it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecNote {
    /// No secret in any key log for this ClientHello random (the connection is not decrypted).
    NoKeys { random: [u8; 32], tls13: bool },
    /// Keys were found, but the record at `offset` of `dir` did not authenticate.
    Failed {
        dir: usize,
        offset: u64,
        why: String,
    },
    /// The negotiated suite is not one hopscope decrypts.
    Unsupported { suite: u16, why: &'static str },
    /// Encrypted records, but the hellos were not captured (which one is missing).
    HandshakeMissing { what: &'static str },
    /// A gap of `n` bytes at `offset` of `dir` ended decryption of that direction.
    Gap { dir: usize, offset: u64, n: u64 },
    /// A fatal alert (`description`), sent by `dir` in the record at `offset`, in the clear
    /// or decrypted.
    Alert {
        dir: usize,
        offset: u64,
        description: u8,
        encrypted: bool,
    },
    /// The negotiated protocol version is not one hopscope decrypts.
    Version { version: u16 },
    /// The client's TLS 1.3 0-RTT records, from the one at `offset` on, did not open: no
    /// early secret in the key log, or the server refused them.
    EarlySkipped { offset: u64 },
}

/// Decrypted bytes of a direction: `bytes` came in the record at stream offset `record`, and
/// are at `plain` in the direction's decrypted stream.
pub struct Plain<'a> {
    pub dir: usize,
    pub record: u64,
    pub plain: u64,
    pub bytes: &'a [u8],
}

/// What happened to a direction's decryption, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirCounts {
    /// Records decrypted (every content type).
    pub records: u64,
    /// Application data bytes decrypted.
    pub bytes: u64,
}

/// The state of decryption, as the report says it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Status {
    /// No encrypted record yet.
    #[default]
    Waiting,
    /// Keys found and used.
    Decrypting,
    /// Not decrypted, and why (the code's reason word: `no-keys`, `cipher-unsupported`, ...).
    Not(&'static str),
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// TLS 1.3 client: 0-RTT records under the early secret.
    Early,
    #[default]
    Handshake,
    Application,
}

#[derive(Default)]
struct Side {
    /// The record being assembled (header and body).
    rec: Vec<u8>,
    /// Stream offset of `rec[0]`, and of the next byte.
    rec_start: u64,
    next: u64,
    /// TLS 1.2: a `change_cipher_spec` was seen; the records after it are encrypted.
    encrypted: bool,
    prot: Option<Protection>,
    /// TLS 1.3: the traffic secret `prot` came from (for KeyUpdate), and the phase.
    secret: Vec<u8>,
    phase: Phase,
    /// A record of this phase authenticated (TLS 1.3 client: early data is over).
    opened: bool,
    /// Decryption of this direction stopped (a note says why).
    stopped: bool,
    /// Decrypted handshake bytes not yet a whole message.
    hs: Vec<u8>,
    /// Offset in the decrypted stream of the next application byte.
    plain: u64,
    counts: DirCounts,
    /// TLS 1.3 0-RTT records skipped (no early secret, or the server refused them).
    early_skipped: u64,
}

/// Decryption of one connection; see the module doc.
pub struct Decrypt {
    sides: [Side; 2],
    /// Secrets found for the client random (looked up once).
    secrets: Option<Secrets>,
    suite: Option<&'static Suite>,
    version: u16,
    pub status: Status,
    notes: Vec<DecNote>,
    /// Bytes of encrypted records that may wait for their keys (0: none wait).
    hold_limit: usize,
    /// Records waiting for keys: (direction, stream offset, record).
    held: Vec<(usize, u64, Vec<u8>)>,
    held_bytes: usize,
    /// Scratch for one record's plaintext.
    out: Vec<u8>,
    /// The ClientHello offered 0-RTT data (TLS 1.3).
    early_offered: bool,
    /// TLS 1.3: the ALPN protocol of the server's EncryptedExtensions.
    alpn: Option<String>,
    /// TLS 1.2 and below: a renegotiation in progress.
    reneg: Option<Box<Reneg>>,
}

/// What a direction's bytes can see of the connection: the hellos and the keys.
pub struct Context<'a> {
    pub client: Option<&'a ClientHelloInfo>,
    pub server: Option<&'a ServerHelloInfo>,
    pub keys: &'a mut KeyLog,
}

impl Decrypt {
    /// `hold_limit`: bytes of encrypted records kept while their keys are not known (live).
    pub fn new(hold_limit: usize) -> Self {
        Decrypt {
            sides: [Side::default(), Side::default()],
            secrets: None,
            suite: None,
            version: 0,
            status: Status::Waiting,
            notes: Vec::new(),
            hold_limit,
            held: Vec::new(),
            held_bytes: 0,
            out: Vec::new(),
            early_offered: false,
            alpn: None,
            reneg: None,
        }
    }

    /// Why nothing was decrypted, when nothing was: the reason word of the report.
    pub fn reason(&self) -> Option<&'static str> {
        let any = self.sides.iter().any(|s| s.counts.records > 0);
        match &self.status {
            _ if any => None,
            Status::Not(why) => Some(why),
            Status::Decrypting => Some("decrypt-failed"),
            Status::Waiting => None,
        }
    }

    /// TLS 1.3: the protocol the server selected, from its decrypted EncryptedExtensions.
    pub fn alpn_selected(&self) -> Option<&str> {
        self.alpn.as_deref()
    }

    /// Which key source the connection's secrets came from.
    pub fn key_source(&self) -> Option<u16> {
        self.secrets.as_ref().map(|s| s.source)
    }

    pub fn notes(&self) -> &[DecNote] {
        &self.notes
    }

    pub fn counts(&self, dir: usize) -> DirCounts {
        self.sides
            .get(dir)
            .map_or_else(DirCounts::default, |s| s.counts)
    }

    /// Bytes held: records being assembled, handshake messages, keys, records waiting.
    pub fn heap_bytes(&self) -> usize {
        let side = |s: &Side| {
            heap::vec(&s.rec)
                + heap::vec(&s.hs)
                + heap::vec(&s.secret)
                + s.prot
                    .as_ref()
                    .map_or(0, |p| p.heap_bytes() + size_of::<Protection>())
        };
        side(&self.sides[0])
            + side(&self.sides[1])
            + self.secrets.as_ref().map_or(0, Secrets::heap_bytes)
            + heap::vec(&self.held)
            + self.held_bytes
            + heap::vec(&self.out)
            + heap::vec(&self.notes)
            + self.reneg.as_ref().map_or(0, |_| size_of::<Reneg>())
    }

    /// Bytes of direction `dir` at stream offset `offset`. Decrypted application data goes to
    /// `emit`.
    pub fn feed(
        &mut self,
        dir: usize,
        offset: u64,
        mut data: &[u8],
        cx: &mut Context<'_>,
        emit: &mut dyn FnMut(Plain<'_>),
    ) {
        if dir > 1 || self.all_stopped() {
            return;
        }
        self.sides[dir].next = offset;
        while !data.is_empty() {
            let side = &mut self.sides[dir];
            if side.stopped {
                return;
            }
            if side.rec.is_empty() {
                side.rec_start = side.next;
                // A whole record in the bytes delivered: decrypted from them, not copied.
                if let Some(&[ct, _, _, a, b]) = data.get(..5) {
                    let whole = 5 + usize::from(u16::from_be_bytes([a, b]));
                    if (20..=24).contains(&ct) && whole <= 5 + MAX_BODY && whole <= data.len() {
                        side.next += whole as u64;
                        let (rec, rest) = data.split_at(whole);
                        data = rest;
                        let at = side.rec_start;
                        self.record(dir, at, rec, cx, emit);
                        continue;
                    }
                }
            }
            let need = match side.rec.get(3..5) {
                Some(l) => 5 + usize::from(u16::from_be_bytes([l[0], l[1]])),
                None => 5,
            };
            let n = (need - side.rec.len()).min(data.len());
            side.rec.extend_from_slice(&data[..n]);
            side.next += n as u64;
            data = &data[n..];
            if side.rec.len() == 5 {
                let len = usize::from(u16::from_be_bytes([side.rec[3], side.rec[4]]));
                if !(20..=24).contains(&side.rec[0]) || len > MAX_BODY {
                    // Not a record: the sniffer reports the header; nothing more here.
                    side.stopped = true;
                    side.rec = Vec::new();
                    return;
                }
                if len > 0 {
                    side.rec.reserve_exact(len);
                    continue;
                }
            }
            if side.rec.len() >= 5 && side.rec.len() == need {
                let rec = std::mem::take(&mut side.rec);
                let at = side.rec_start;
                // The buffer goes with the record: an idle connection holds none.
                self.record(dir, at, &rec, cx, emit);
            }
        }
    }

    /// `n` bytes of direction `dir` at `offset` are missing: records cannot be found again.
    pub fn gap(&mut self, dir: usize, offset: u64, n: u64) {
        let Some(side) = self.sides.get_mut(dir) else {
            return;
        };
        side.next = offset + n;
        if side.stopped || n == 0 {
            return;
        }
        side.stopped = true;
        side.rec = Vec::new();
        side.hs = Vec::new();
        side.prot = None;
        if self.status == Status::Decrypting {
            self.notes.push(DecNote::Gap { dir, offset, n });
        }
    }

    /// The stream ended: records still waiting for keys never got them.
    pub fn close(&mut self, cx: &mut Context<'_>) {
        if !self.held.is_empty() {
            self.held = Vec::new();
            self.held_bytes = 0;
            self.no_keys(cx);
        }
    }

    fn all_stopped(&self) -> bool {
        self.sides.iter().all(|s| s.stopped)
    }

    fn stop_all(&mut self, why: &'static str) {
        for s in &mut self.sides {
            s.stopped = true;
            s.rec = Vec::new();
            s.hs = Vec::new();
            s.prot = None;
        }
        self.held = Vec::new();
        self.held_bytes = 0;
        if self.status != Status::Decrypting {
            self.status = Status::Not(why);
        }
    }

    fn tls13(&self) -> bool {
        self.version == 0x0304
    }

    /// One complete record of `dir` at stream offset `at`.
    fn record(
        &mut self,
        dir: usize,
        at: u64,
        rec: &[u8],
        cx: &mut Context<'_>,
        emit: &mut dyn FnMut(Plain<'_>),
    ) {
        let ct = rec.first().copied().unwrap_or(0);
        if self.version == 0
            && let Some(sh) = cx.server
        {
            // A HelloRetryRequest names the version and suite the final ServerHello repeats.
            self.version = sh.selected_version;
        }
        let encrypted = if self.version == 0 {
            // No ServerHello (yet): plaintext handshake, or records of a handshake not seen.
            ct == APPLICATION_DATA || self.sides[dir].encrypted
        } else if self.tls13() {
            ct == APPLICATION_DATA
        } else {
            self.sides[dir].encrypted
        };
        if !encrypted {
            if ct == CCS && !self.tls13() {
                self.sides[dir].encrypted = true;
            }
            if ct == ALERT
                && let Some(&[level, description]) = rec.get(5..7)
            {
                self.alert(dir, at, level, description, false);
            }
            return;
        }
        if self.version == 0 && dir == 0 && cx.server.is_none() && cx.client.is_some() {
            // TLS 1.3 0-RTT data before the ServerHello was seen: it waits for the hello.
            self.hold(dir, at, rec, EARLY_HOLD.max(self.hold_limit), cx);
            return;
        }
        if !self.ready(dir, cx) {
            if self.hold_limit > 0 && self.status == Status::Waiting {
                self.hold(dir, at, rec, self.hold_limit, cx);
            }
            return;
        }
        self.drain(cx, emit);
        self.open(dir, at, rec, cx, emit);
    }

    /// An alert: a fatal one is noted (close_notify and user_canceled end a connection
    /// normally; a warning-level alert is only a warning).
    fn alert(&mut self, dir: usize, at: u64, level: u8, description: u8, encrypted: bool) {
        if level == 2 || (self.tls13() && !matches!(description, 0 | 90)) {
            self.notes.push(DecNote::Alert {
                dir,
                offset: at,
                description,
                encrypted,
            });
        }
    }

    /// Keeps an encrypted record until its keys (or the ServerHello) come, within `limit`
    /// bytes; past it, the connection is given up as having none.
    fn hold(&mut self, dir: usize, at: u64, rec: &[u8], limit: usize, cx: &mut Context<'_>) {
        if self.held_bytes + rec.len() <= limit {
            self.held_bytes += rec.len();
            self.held.push((dir, at, rec.to_vec()));
            return;
        }
        self.held = Vec::new();
        self.held_bytes = 0;
        if cx.server.is_none() {
            self.notes.push(DecNote::HandshakeMissing {
                what: "the ServerHello",
            });
            self.stop_all("handshake-missing");
        } else {
            self.no_keys(cx);
        }
    }

    /// The records held for keys, now that some are known.
    fn drain(&mut self, cx: &mut Context<'_>, emit: &mut dyn FnMut(Plain<'_>)) {
        if self.held.is_empty() {
            return;
        }
        self.held_bytes = 0;
        for (d, a, r) in std::mem::take(&mut self.held) {
            if self.ready(d, cx) {
                self.open(d, a, &r, cx, emit);
            }
        }
    }

    /// Records are held for keys: the caller should look for new key log lines.
    pub fn waiting_for_keys(&self) -> bool {
        !self.held.is_empty()
    }

    /// Whether direction `dir` has keys; sets them up at the first encrypted record. A
    /// failure that is final is noted here.
    fn ready(&mut self, dir: usize, cx: &mut Context<'_>) -> bool {
        if self.sides[dir].stopped {
            return false;
        }
        if self.sides[dir].prot.is_some() {
            return true;
        }
        if matches!(self.status, Status::Not(_)) {
            return false;
        }
        let (Some(ch), Some(sh)) = (cx.client, cx.server) else {
            let what = match (cx.client, cx.server) {
                (None, None) => "neither hello",
                (None, _) => "the ClientHello",
                _ => "the ServerHello",
            };
            self.notes.push(DecNote::HandshakeMissing { what });
            self.stop_all("handshake-missing");
            return false;
        };
        let Some(suite) = suites::suite(sh.cipher_suite).filter(|s| s.decryptable()) else {
            let why = suites::suite(sh.cipher_suite)
                .and_then(Suite::unsupported_reason)
                .unwrap_or("unknown suite");
            self.notes.push(DecNote::Unsupported {
                suite: sh.cipher_suite,
                why,
            });
            self.stop_all("cipher-unsupported");
            return false;
        };
        if !matches!(self.version, 0x0301..=0x0304) {
            self.notes.push(DecNote::Version {
                version: self.version,
            });
            self.stop_all("version-unsupported");
            return false;
        }
        self.suite = Some(suite);
        if self.secrets.is_none() {
            match cx.keys.get(&ch.random).cloned() {
                Some(s) => {
                    cx.keys.used += 1;
                    self.secrets = Some(s);
                }
                None if self.hold_limit > 0 => return false,
                None => {
                    self.no_keys(cx);
                    return false;
                }
            }
        }
        let Some(secrets) = self.secrets.clone() else {
            return false;
        };
        let made = if self.tls13() {
            self.keys13(dir, ch, suite, &secrets)
        } else {
            self.keys12(ch, sh, suite, &secrets)
        };
        match made {
            Ok(true) => {
                self.status = Status::Decrypting;
                true
            }
            Ok(false) => {
                self.no_keys(cx);
                false
            }
            Err(e) => {
                self.notes.push(DecNote::Failed {
                    dir,
                    offset: self.sides[dir].rec_start,
                    why: e.to_string(),
                });
                self.stop_all("decrypt-failed");
                false
            }
        }
    }

    fn no_keys(&mut self, cx: &mut Context<'_>) {
        if matches!(self.status, Status::Not(_)) {
            return;
        }
        cx.keys.missed += 1;
        let random = cx.client.map_or([0; 32], |c| c.random);
        self.notes.push(DecNote::NoKeys {
            random,
            tls13: self.tls13(),
        });
        self.stop_all("no-keys");
    }

    /// TLS 1.3 keys of `dir` for its first encrypted record. `Ok(false)`: no secret for it.
    fn keys13(
        &mut self,
        dir: usize,
        ch: &ClientHelloInfo,
        suite: &'static Suite,
        s: &Secrets,
    ) -> Result<bool, CryptoError> {
        let early = dir == 0 && ch.extensions.contains(&EARLY_DATA);
        self.early_offered |= early;
        let side = &mut self.sides[dir];
        // Without logged handshake secrets the application ones may still open the records
        // after the handshake (those before are skipped as unreadable).
        let first = [Phase::Early, Phase::Handshake, Phase::Application]
            .into_iter()
            .filter(|p| early || *p != Phase::Early)
            .find_map(|p| logged(s, dir, p).map(|secret| (secret, p)));
        let Some((secret, phase)) = first else {
            return Ok(false);
        };
        side.prot = Some(Protection::tls13(suite, secret)?);
        side.secret = secret.clone();
        side.phase = phase;
        Ok(true)
    }

    /// TLS 1.2 and below: both directions' keys from the master secret.
    fn keys12(
        &mut self,
        ch: &ClientHelloInfo,
        sh: &ServerHelloInfo,
        suite: &'static Suite,
        s: &Secrets,
    ) -> Result<bool, CryptoError> {
        let Some(master) = &s.master else {
            return Ok(false);
        };
        let etm = sh.extensions.contains(&ENCRYPT_THEN_MAC);
        let [c, sv] = Protection::tls12(suite, self.version, master, &ch.random, &sh.random, etm)?;
        if !self.sides[0].stopped {
            self.sides[0].prot = Some(c);
        }
        if !self.sides[1].stopped {
            self.sides[1].prot = Some(sv);
        }
        Ok(true)
    }

    /// Decrypts one record of `dir` and hands on what it holds.
    fn open(
        &mut self,
        dir: usize,
        at: u64,
        rec: &[u8],
        cx: &mut Context<'_>,
        emit: &mut dyn FnMut(Plain<'_>),
    ) {
        let (Some(hdr), Some(body)) = (rec.get(..5), rec.get(5..)) else {
            return;
        };
        let mut header = [0u8; 5];
        header.copy_from_slice(hdr);
        let side = &mut self.sides[dir];
        let Some(prot) = side.prot.as_mut() else {
            return;
        };
        let mut out = std::mem::take(&mut self.out);
        let mut res = prot.open(&header, body, &mut out);
        if res.is_err() && self.version == 0x0304 {
            res = self.retry13(dir, &header, body, &mut out);
        }
        let side = &mut self.sides[dir];
        match res {
            Ok(ct) => {
                side.opened = true;
                side.counts.records += 1;
                match ct {
                    APPLICATION_DATA if !out.is_empty() => {
                        side.counts.bytes += out.len() as u64;
                        let plain = side.plain;
                        side.plain += out.len() as u64;
                        emit(Plain {
                            dir,
                            record: at,
                            plain,
                            bytes: &out,
                        });
                    }
                    HANDSHAKE => self.handshake(dir, &out),
                    CCS if !self.tls13() && !self.renegotiated(dir, at, cx) => {
                        let side = &mut self.sides[dir];
                        side.stopped = true;
                        side.prot = None;
                    }
                    ALERT => {
                        if let Some(&[level, description]) = out.get(..2) {
                            self.alert(dir, at, level, description, true);
                        }
                    }
                    _ => {}
                }
            }
            Err(CryptoError::Authentication)
                if dir == 0
                    && (side.phase == Phase::Early || (self.early_offered && !side.opened)) =>
            {
                side.early_skipped += 1;
                if side.early_skipped == 1 {
                    self.notes.push(DecNote::EarlySkipped { offset: at });
                }
            }
            Err(e) => {
                let why = e.to_string();
                self.notes.push(DecNote::Failed {
                    dir,
                    offset: at,
                    why,
                });
                let side = &mut self.sides[dir];
                side.stopped = true;
                side.prot = None;
                side.rec = Vec::new();
                side.hs = Vec::new();
            }
        }
        out.clear();
        // Scratch for the next record; a full record's worth is not kept by an idle one.
        if out.capacity() <= 4096 {
            self.out = out;
        }
    }

    /// TLS 1.3: a record that did not open under the current keys may be the first of the
    /// next phase the log allows (the client's 0-RTT was refused or is over; the handshake
    /// secrets were not logged). Tries those in order and keeps the one that opens.
    fn retry13(
        &mut self,
        dir: usize,
        header: &[u8; 5],
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, CryptoError> {
        let (Some(suite), Some(s)) = (self.suite, self.secrets.as_ref()) else {
            return Err(CryptoError::Authentication);
        };
        let side = &mut self.sides[dir];
        let next: &[Phase] = match side.phase {
            Phase::Early => &[Phase::Handshake, Phase::Application],
            Phase::Handshake if !side.opened => &[Phase::Application],
            _ => &[],
        };
        for phase in next {
            let Some(secret) = logged(s, dir, *phase) else {
                continue;
            };
            let Ok(mut p) = Protection::tls13(suite, secret) else {
                continue;
            };
            if let Ok(ct) = p.open(header, body, out) {
                side.prot = Some(p);
                side.secret = secret.clone();
                side.phase = *phase;
                return Ok(ct);
            }
        }
        Err(CryptoError::Authentication)
    }

    /// Decrypted handshake bytes of `dir`: TLS 1.3's Finished switches the direction to its
    /// application keys, KeyUpdate to the next ones, EndOfEarlyData ends 0-RTT.
    fn handshake(&mut self, dir: usize, bytes: &[u8]) {
        if !self.tls13() {
            self.handshake12(dir, bytes);
            return;
        }
        let side = &mut self.sides[dir];
        if side.hs.len() + bytes.len() > MAX_HANDSHAKE {
            // A message larger than anything TLS 1.3 sends after the hellos: not followed.
            side.hs = Vec::new();
            return;
        }
        side.hs.extend_from_slice(bytes);
        let mut used = 0;
        while let Some(&[t, a, b, c]) = side.hs.get(used..used + 4) {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            let end = used + 4 + len;
            if end > side.hs.len() {
                break;
            }
            if t == 8
                && dir == 1
                && let Some(body) = side.hs.get(end - len..end)
            {
                self.alpn = alpn_of(body);
            }
            used = end;
            let next = match t {
                // Finished: the handshake keys are done.
                20 if side.phase == Phase::Handshake => Some(Phase::Application),
                // EndOfEarlyData: 0-RTT is over.
                5 if side.phase == Phase::Early => Some(Phase::Handshake),
                // KeyUpdate.
                24 if side.phase == Phase::Application => Some(Phase::Application),
                _ => None,
            };
            if let Some(phase) = next {
                switch13(side, dir, phase, self.suite, self.secrets.as_ref());
            }
        }
        side.hs.drain(..used);
        if side.hs.is_empty() {
            side.hs = Vec::new();
        }
    }
}

impl Decrypt {
    /// Decrypted handshake bytes of TLS 1.2 and below: a renegotiation's hellos, whose keys
    /// take over at each side's next `change_cipher_spec`.
    fn handshake12(&mut self, dir: usize, bytes: &[u8]) {
        let side = &mut self.sides[dir];
        if side.hs.len() + bytes.len() > MAX_HANDSHAKE {
            side.hs = Vec::new();
            return;
        }
        side.hs.extend_from_slice(bytes);
        let mut used = 0;
        let mut hellos = Vec::new();
        while let Some(&[t, a, b, c]) = side.hs.get(used..used + 4) {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            let end = used + 4 + len;
            if end > side.hs.len() {
                break;
            }
            if matches!((t, dir), (1, 0) | (2, 1))
                && let Some(body) = side.hs.get(used + 4..end)
            {
                hellos.push((t, body.to_vec()));
            }
            used = end;
        }
        side.hs.drain(..used);
        if side.hs.is_empty() {
            side.hs = Vec::new();
        }
        for (t, body) in hellos {
            let r = self.reneg.get_or_insert_with(Box::default);
            let random = body.get(2..34).and_then(|r| <[u8; 32]>::try_from(r).ok());
            if t == 1 {
                r.client_random = random;
            } else if let Some(hello) = server_hello12(&body) {
                r.server_random = random;
                r.hello = Some(hello);
            }
            r.pending = [None, None];
        }
    }

    /// A decrypted `change_cipher_spec` of TLS 1.2 and below: after a renegotiation, the new
    /// keys take over this direction. `false`: they cannot be made (the reason is noted).
    fn renegotiated(&mut self, dir: usize, at: u64, cx: &mut Context<'_>) -> bool {
        let Some(r) = self.reneg.as_mut() else {
            return true;
        };
        if r.pending[dir].is_none() {
            let (Some(cr), Some(sr), Some((suite_id, version, etm))) =
                (r.client_random, r.server_random, r.hello)
            else {
                return true;
            };
            let Some(suite) = suites::suite(suite_id).filter(|s| s.decryptable()) else {
                let why = suites::suite(suite_id)
                    .and_then(Suite::unsupported_reason)
                    .unwrap_or("unknown suite");
                self.notes.push(DecNote::Unsupported {
                    suite: suite_id,
                    why,
                });
                return false;
            };
            let master = cx.keys.get(&cr).and_then(|s| s.master.clone());
            let Some(master) = master else {
                cx.keys.missed += 1;
                self.notes.push(DecNote::NoKeys {
                    random: cr,
                    tls13: false,
                });
                return false;
            };
            match Protection::tls12(suite, version, &master, &cr, &sr, etm) {
                Ok([c, s]) => r.pending = [Some(c), Some(s)],
                Err(e) => {
                    self.notes.push(DecNote::Failed {
                        dir,
                        offset: at,
                        why: e.to_string(),
                    });
                    return false;
                }
            }
        }
        match r.pending[dir].take() {
            Some(p) => {
                self.sides[dir].prot = Some(p);
                true
            }
            None => true,
        }
    }
}

/// A renegotiation seen inside the encrypted channel (TLS 1.2 and below).
#[derive(Default)]
struct Reneg {
    client_random: Option<[u8; 32]>,
    server_random: Option<[u8; 32]>,
    /// The ServerHello's suite, version and encrypt-then-MAC.
    hello: Option<(u16, u16, bool)>,
    /// Keys for each direction, waiting for its `change_cipher_spec`.
    pending: [Option<Protection>; 2],
}

/// The suite, version and encrypt-then-MAC of a ServerHello body (RFC 5246 §7.4.1.3).
fn server_hello12(body: &[u8]) -> Option<(u16, u16, bool)> {
    let version = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let sid = usize::from(*body.get(34)?);
    let at = 35 + sid;
    let suite = u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]);
    let mut etm = false;
    // compression method, then the extensions block.
    if let Some(ext) = body.get(at + 3..) {
        let total = ext
            .get(..2)
            .map_or(0, |l| usize::from(u16::from_be_bytes([l[0], l[1]])));
        let mut i = 2;
        while i + 4 <= (2 + total).min(ext.len()) {
            let ty = u16::from_be_bytes([ext[i], ext[i + 1]]);
            let len = usize::from(u16::from_be_bytes([ext[i + 2], ext[i + 3]]));
            etm |= ty == ENCRYPT_THEN_MAC;
            i += 4 + len;
        }
    }
    Some((suite, version, etm))
}

/// The logged TLS 1.3 secret of direction `dir` (0 client, 1 server) for `phase` (the early
/// secret is the client's only).
fn logged(s: &Secrets, dir: usize, phase: Phase) -> Option<&Vec<u8>> {
    match (phase, dir) {
        (Phase::Early, 0) => s.client_early.as_ref(),
        (Phase::Handshake, 0) => s.client_handshake.as_ref(),
        (Phase::Handshake, _) => s.server_handshake.as_ref(),
        (Phase::Application, 0) => s.client_traffic0.as_ref(),
        (Phase::Application, _) => s.server_traffic0.as_ref(),
        (Phase::Early, _) => None,
    }
}

/// Moves TLS 1.3 direction `dir` to `phase`: the logged secret for it, or (KeyUpdate, phase
/// unchanged) the next secret derived from the current one.
fn switch13(
    side: &mut Side,
    dir: usize,
    phase: Phase,
    suite: Option<&'static Suite>,
    secrets: Option<&Secrets>,
) {
    let (Some(suite), Some(s)) = (suite, secrets) else {
        return;
    };
    let secret = if phase == side.phase {
        Protection::tls13_next_secret(suite, &side.secret).ok()
    } else {
        logged(s, dir, phase).cloned()
    };
    let made = secret
        .as_ref()
        .and_then(|sec| Protection::tls13(suite, sec).ok());
    match (made, secret) {
        (Some(p), Some(sec)) => {
            side.prot = Some(p);
            side.secret = sec;
            side.phase = phase;
            side.opened = false;
        }
        _ => {
            // The next secret is not logged: the next record fails and says so.
            side.phase = phase;
        }
    }
}

impl DecNote {
    /// The note as a finding's message.
    pub fn message(&self) -> String {
        match self {
            DecNote::NoKeys { random, tls13 } => format!(
                "no key log entry for this connection's client random {} ({}); its {} \
                 data is not decrypted",
                hex(random),
                if *tls13 {
                    "TLS 1.3: CLIENT_HANDSHAKE_TRAFFIC_SECRET / CLIENT_TRAFFIC_SECRET_0 lines"
                } else {
                    "TLS 1.2: a CLIENT_RANDOM line"
                },
                "application"
            ),
            DecNote::Failed { dir, offset, why } => format!(
                "the {} record at stream offset {offset} did not decrypt ({why}): the key log \
                 does not belong to this connection, or the capture is corrupt there; \
                 decryption of this direction stops",
                if *dir == 0 { "client's" } else { "server's" }
            ),
            DecNote::Unsupported { suite, why } => format!(
                "cipher suite {} ({why}) is not decrypted by hopscope",
                suites::name(*suite)
            ),
            DecNote::HandshakeMissing { what } => format!(
                "encrypted TLS records, but {}: the keys cannot be looked up and the suite \
                 is unknown, so nothing is decrypted (capture from before the connection \
                 starts)",
                if *what == "neither hello" {
                    "neither hello was captured".to_string()
                } else {
                    format!("{what} was not captured")
                }
            ),
            DecNote::Alert {
                dir,
                description,
                encrypted,
                ..
            } => format!(
                "the {} sent a fatal TLS alert{}: {} ({description})",
                if *dir == 0 { "client" } else { "server" },
                if *encrypted { " (decrypted)" } else { "" },
                alert_name(*description)
            ),
            DecNote::EarlySkipped { offset } => format!(
                "the client's TLS 1.3 early data (0-RTT) from stream offset {offset} is not \
                 decrypted: the key log has no CLIENT_EARLY_TRAFFIC_SECRET for it (or the server \
                 refused it); the rest of the connection is"
            ),
            DecNote::Version { version } => format!(
                "{} is not decrypted by hopscope (TLS 1.0 to 1.3 are)",
                super::version_name(*version)
            ),
            DecNote::Gap { dir, offset, n } => format!(
                "{n} bytes of the {} TLS stream were not captured at offset {offset}: records \
                 cannot be found again after a gap, so decryption of this direction stops here",
                if *dir == 0 { "client's" } else { "server's" }
            ),
        }
    }
}

/// The ALPN protocol an EncryptedExtensions body (RFC 8446 §4.3.1) selects.
fn alpn_of(body: &[u8]) -> Option<String> {
    let u16_at = |b: &[u8], i: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
        ])))
    };
    let total = u16_at(body, 0)?;
    let exts = body.get(2..2 + total)?;
    let mut i = 0;
    while i + 4 <= exts.len() {
        let (ty, len) = (u16_at(exts, i)?, u16_at(exts, i + 2)?);
        let data = exts.get(i + 4..i + 4 + len)?;
        if ty == 16 {
            // protocol_name_list: a 2-byte length, then one 1-byte-length name.
            let name_len = usize::from(*data.get(2)?);
            let name = data.get(3..3 + name_len)?;
            return Some(String::from_utf8_lossy(name).into_owned());
        }
        i += 4 + len;
    }
    None
}

/// The name of an alert description (RFC 8446 §6, RFC 5246 §7.2).
fn alert_name(d: u8) -> &'static str {
    match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}
