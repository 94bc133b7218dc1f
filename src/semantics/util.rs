//! Shared pieces: a bounded insertion-ordered map, one-pass header classification, canonical
//! URLs and origins, list and token helpers, value masking.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use crate::model::Endpoint;
use crate::model::http::Headers;

// ---- bounded map -------------------------------------------------------------------------

/// A map of at most `cap` entries; inserting into a full map drops the oldest entry and counts
/// it. Entries are ordered by their last insertion.
///
/// The entries live in a slab and the hash table holds only their keys and 4-byte places: a
/// hash table's room doubles past 7/8 full, so a full map of 16,384 entries (the cache step's
/// validators, 104 bytes each) took a table of 32,768 whole entries, 3.7 MB, where the slab
/// takes 1.7 MB and the table of places 0.5 MB.
pub struct Bounded<K, V> {
    index: FxHashMap<K, u32>,
    /// The entries: key, generation (its place in `order`), value; `None` where one was removed.
    slots: Vec<Option<(K, u64, V)>>,
    free: Vec<u32>,
    order: VecDeque<(K, u64)>,
    cap: usize,
    next_gen: u64,
    pub evicted: u64,
}

impl<K: Copy + Eq + Hash, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Self {
        Bounded {
            index: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
            next_gen: 0,
            evicted: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn slot(&self, k: &K) -> Option<&(K, u64, V)> {
        self.slots.get(self.found(k)?)?.as_ref()
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.slot(k).map(|(_, _, v)| v)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.found(k)?;
        self.slots.get_mut(i)?.as_mut().map(|(_, _, v)| v)
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.index.remove(k)?;
        let (_, _, v) = self.slots.get_mut(i as usize)?.take()?;
        self.free.push(i);
        Some(v)
    }

    /// Drops the oldest entries until `k` fits; returns true when one was dropped.
    fn make_room(&mut self, k: &K) -> bool {
        let mut evicted = false;
        if !self.index.contains_key(k) {
            while self.index.len() >= self.cap {
                let Some((old, og)) = self.order.pop_front() else {
                    break;
                };
                if self.slot(&old).is_some_and(|(_, eg, _)| *eg == og) {
                    self.remove(&old);
                    self.evicted += 1;
                    evicted = true;
                }
            }
        }
        evicted
    }

    fn touch(&mut self, k: K) -> u64 {
        let g = self.next_gen;
        self.next_gen += 1;
        self.order.push_back((k, g));
        if self.order.len() > self.cap.saturating_mul(2) + 16 {
            // The entry just made (its generation is new) is kept: its key is not in the map
            // with this generation yet (it was dropped here before, so that key could never be
            // evicted and the map outgrew its bound by one such key per compaction).
            let (index, slots) = (&self.index, &self.slots);
            self.order.retain(|&(ok, og)| {
                og == g
                    || index
                        .get(&ok)
                        .and_then(|&i| slots.get(i as usize))
                        .is_some_and(|s| s.as_ref().is_some_and(|(_, eg, _)| *eg == og))
            });
        }
        g
    }

    /// A new entry in the slab (a free place first), indexed.
    fn place(&mut self, k: K, g: u64, v: V) -> &mut V {
        let i = match self.free.pop() {
            Some(i) if (i as usize) < self.slots.len() => i as usize,
            _ => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.index.insert(k, i as u32);
        &mut self.slots[i].insert((k, g, v)).2
    }

    /// The place of `k`'s entry, if it has one.
    fn found(&self, k: &K) -> Option<usize> {
        let i = *self.index.get(k)? as usize;
        matches!(self.slots.get(i), Some(Some(_))).then_some(i)
    }

    /// Inserts (or replaces, making it the newest); returns true when an entry was evicted.
    pub fn insert(&mut self, k: K, v: V) -> bool {
        let evicted = self.make_room(&k);
        let g = self.touch(k);
        match self.found(&k) {
            Some(i) => self.slots[i] = Some((k, g, v)),
            None => {
                self.place(k, g, v);
            }
        }
        evicted
    }

    /// The entry for `k`, inserted with `make` when absent; the flag says an entry was evicted.
    pub fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> (&mut V, bool) {
        match self.found(&k) {
            Some(i) => (
                &mut self.slots[i].get_or_insert_with(|| (k, 0, make())).2,
                false,
            ),
            None => {
                let evicted = self.make_room(&k);
                let g = self.touch(k);
                (self.place(k, g, make()), evicted)
            }
        }
    }
}

/// A 64-bit key for a byte string.
pub fn key_of(parts: &[&[u8]]) -> u64 {
    let mut h = FxHasher::default();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

// ---- header classification ---------------------------------------------------------------

/// The first value of a field that may repeat, and how many lines it had.
#[derive(Clone, Copy, Debug, Default)]
pub struct Multi<'a> {
    pub first: Option<&'a [u8]>,
    pub count: u32,
}

impl<'a> Multi<'a> {
    fn add(&mut self, v: &'a [u8]) {
        if self.first.is_none() {
            self.first = Some(v);
        }
        self.count += 1;
    }
    pub fn present(&self) -> bool {
        self.count > 0
    }
}

/// Every line of a field without collecting them: the one value classified, or all of them from
/// the headers when the field repeats (the classification keeps only the first).
pub fn lines<'a>(
    h: Option<&'a Headers>,
    m: Multi<'a>,
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let single = if m.count <= 1 { m.first } else { None };
    let many = if m.count > 1 {
        h.map(|h| h.values(name))
    } else {
        None
    };
    single.into_iter().chain(many.into_iter().flatten())
}

/// The request fields the semantics step reads, found in one pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReqFacts<'a> {
    pub host: Option<&'a [u8]>,
    pub cookie: Multi<'a>,
    pub cache_control: Multi<'a>,
    pub pragma: Option<&'a [u8]>,
    pub if_none_match: Multi<'a>,
    pub if_modified_since: Option<&'a [u8]>,
    pub if_range: Option<&'a [u8]>,
    pub range: Option<&'a [u8]>,
    pub origin: Option<&'a [u8]>,
    pub acr_method: Option<&'a [u8]>,
    pub acr_headers: Multi<'a>,
    pub authorization: Option<&'a [u8]>,
    pub proxy_authorization: Option<&'a [u8]>,
    pub sec_fetch_site: Option<&'a [u8]>,
    pub sec_fetch_mode: Option<&'a [u8]>,
    pub sec_fetch_storage_access: Option<&'a [u8]>,
    pub upgrade: Option<&'a [u8]>,
    /// `X-Forwarded-Proto`, `Forwarded`: a TLS-terminating proxy in front says the client's
    /// scheme.
    pub x_forwarded_proto: Option<&'a [u8]>,
    pub forwarded: Option<&'a [u8]>,
}

/// The response fields the semantics step reads, found in one pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct RespFacts<'a> {
    pub cache_control: Multi<'a>,
    pub pragma: Option<&'a [u8]>,
    pub date: Option<&'a [u8]>,
    pub expires: Multi<'a>,
    pub age: Option<&'a [u8]>,
    pub etag: Option<&'a [u8]>,
    pub last_modified: Option<&'a [u8]>,
    pub vary: Multi<'a>,
    pub set_cookie: Multi<'a>,
    pub content_range: Option<&'a [u8]>,
    pub accept_ranges: Option<&'a [u8]>,
    pub content_type: Option<&'a [u8]>,
    pub location: Option<&'a [u8]>,
    pub www_authenticate: Multi<'a>,
    pub proxy_authenticate: Multi<'a>,
    pub acao: Multi<'a>,
    pub acac: Option<&'a [u8]>,
    pub acam: Multi<'a>,
    pub acah: Multi<'a>,
    pub aceh: Multi<'a>,
    pub acma: Option<&'a [u8]>,
}

// Fields are found by name without lowercasing it: a hash of the name's length and two of its
// letters picks a slot of an open-addressed table built at compile time, and the one name there
// is compared a word at a time ([`same_name`]). Most fields of a message are none of ours and
// end at an empty slot or at a name of another length. (Lowercasing every name into a buffer
// and matching it took twice the instructions.)

/// Slots of a [`FieldTable`]: at least twice its fields, so that a probe ends soon.
const SLOTS: usize = 64;

/// A field name's slot in a [`FieldTable`] (the first one probed): of its length, first and
/// last-but-one bytes, their case ignored.
const fn slot_of(name: &[u8]) -> usize {
    let n = name.len();
    if n < 2 {
        return n;
    }
    (n * 7 + (name[0] | 0x20) as usize + (name[n - 2] | 0x20) as usize * 29) % SLOTS
}

/// The fields one side reads, by name; `F` says which one.
struct FieldTable<F: 'static> {
    fields: &'static [(&'static str, F)],
    /// Per slot, 1 + the index of the field placed there, or 0.
    slots: [u8; SLOTS],
}

impl<F: Copy> FieldTable<F> {
    /// Places each field at its slot or the next free one (linear probing). The names must be
    /// lowercase letters, `-` and `:` ([`same_name`] relies on it).
    const fn new(fields: &'static [(&'static str, F)]) -> Self {
        assert!(fields.len() * 2 <= SLOTS);
        let mut slots = [0u8; SLOTS];
        let mut i = 0;
        while i < fields.len() {
            let name = fields[i].0.as_bytes();
            assert!(name.len() >= 2);
            let mut k = 0;
            while k < name.len() {
                assert!(name[k].is_ascii_lowercase() || name[k] == b'-' || name[k] == b':');
                k += 1;
            }
            let mut s = slot_of(name);
            while slots[s] != 0 {
                s = (s + 1) % SLOTS;
            }
            slots[s] = i as u8 + 1;
            i += 1;
        }
        FieldTable { fields, slots }
    }

    /// The field a name is, ASCII case-insensitively.
    fn find(&self, name: &[u8]) -> Option<F> {
        let mut s = slot_of(name);
        // Ends at a free slot: the table is at most half full.
        loop {
            let i = usize::from(*self.slots.get(s)?);
            let &(field, f) = self.fields.get(i.checked_sub(1)?)?;
            if same_name(name, field.as_bytes()) {
                return Some(f);
            }
            s = (s + 1) % SLOTS;
        }
    }
}

pub use crate::base::ascii::same_name;

/// The request fields [`ReqFacts`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Req {
    Host,
    Authority,
    Cookie,
    CacheControl,
    Pragma,
    IfNoneMatch,
    IfModifiedSince,
    IfRange,
    Range,
    Origin,
    AcrMethod,
    AcrHeaders,
    Authorization,
    ProxyAuthorization,
    SecFetchSite,
    SecFetchMode,
    SecFetchStorageAccess,
    Upgrade,
    XForwardedProto,
    Forwarded,
}

const REQ_FIELDS: &[(&str, Req)] = &[
    ("host", Req::Host),
    (":authority", Req::Authority),
    ("cookie", Req::Cookie),
    ("cache-control", Req::CacheControl),
    ("pragma", Req::Pragma),
    ("if-none-match", Req::IfNoneMatch),
    ("if-modified-since", Req::IfModifiedSince),
    ("if-range", Req::IfRange),
    ("range", Req::Range),
    ("origin", Req::Origin),
    ("access-control-request-method", Req::AcrMethod),
    ("access-control-request-headers", Req::AcrHeaders),
    ("authorization", Req::Authorization),
    ("proxy-authorization", Req::ProxyAuthorization),
    ("sec-fetch-site", Req::SecFetchSite),
    ("sec-fetch-mode", Req::SecFetchMode),
    ("sec-fetch-storage-access", Req::SecFetchStorageAccess),
    ("upgrade", Req::Upgrade),
    ("x-forwarded-proto", Req::XForwardedProto),
    ("forwarded", Req::Forwarded),
];
static REQ: FieldTable<Req> = FieldTable::new(REQ_FIELDS);

/// The response fields [`RespFacts`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resp {
    CacheControl,
    Pragma,
    Date,
    Expires,
    Age,
    Etag,
    LastModified,
    Vary,
    SetCookie,
    ContentRange,
    AcceptRanges,
    ContentType,
    Location,
    WwwAuthenticate,
    ProxyAuthenticate,
    Acao,
    Acac,
    Acam,
    Acah,
    Aceh,
    Acma,
}

const RESP_FIELDS: &[(&str, Resp)] = &[
    ("cache-control", Resp::CacheControl),
    ("pragma", Resp::Pragma),
    ("date", Resp::Date),
    ("expires", Resp::Expires),
    ("age", Resp::Age),
    ("etag", Resp::Etag),
    ("last-modified", Resp::LastModified),
    ("vary", Resp::Vary),
    ("set-cookie", Resp::SetCookie),
    ("content-range", Resp::ContentRange),
    ("accept-ranges", Resp::AcceptRanges),
    ("content-type", Resp::ContentType),
    ("location", Resp::Location),
    ("www-authenticate", Resp::WwwAuthenticate),
    ("proxy-authenticate", Resp::ProxyAuthenticate),
    ("access-control-allow-origin", Resp::Acao),
    ("access-control-allow-credentials", Resp::Acac),
    ("access-control-allow-methods", Resp::Acam),
    ("access-control-allow-headers", Resp::Acah),
    ("access-control-expose-headers", Resp::Aceh),
    ("access-control-max-age", Resp::Acma),
];
static RESP: FieldTable<Resp> = FieldTable::new(RESP_FIELDS);

impl<'a> ReqFacts<'a> {
    pub fn of(h: &'a Headers) -> Self {
        let mut f = ReqFacts::default();
        f.read(h);
        f
    }

    /// [`ReqFacts::of`] into facts already in place (no copy of this large struct).
    pub fn read(&mut self, h: &'a Headers) {
        let f = self;
        for x in h.iter() {
            let Some(field) = REQ.find(x.name) else {
                continue;
            };
            let v = x.value;
            match field {
                Req::Host => {
                    f.host.get_or_insert(v);
                }
                // HTTP/2's `:authority` wins over `Host` (RFC 9113 §8.3.1).
                Req::Authority => f.host = Some(v),
                Req::Cookie => f.cookie.add(v),
                Req::CacheControl => f.cache_control.add(v),
                Req::Pragma => f.pragma = f.pragma.or(Some(v)),
                Req::IfNoneMatch => f.if_none_match.add(v),
                Req::IfModifiedSince => f.if_modified_since = f.if_modified_since.or(Some(v)),
                Req::IfRange => f.if_range = f.if_range.or(Some(v)),
                Req::Range => f.range = f.range.or(Some(v)),
                Req::Origin => f.origin = f.origin.or(Some(v)),
                Req::AcrMethod => f.acr_method = f.acr_method.or(Some(v)),
                Req::AcrHeaders => f.acr_headers.add(v),
                Req::Authorization => f.authorization = f.authorization.or(Some(v)),
                Req::ProxyAuthorization => {
                    f.proxy_authorization = f.proxy_authorization.or(Some(v))
                }
                Req::SecFetchSite => f.sec_fetch_site = f.sec_fetch_site.or(Some(v)),
                Req::SecFetchMode => f.sec_fetch_mode = f.sec_fetch_mode.or(Some(v)),
                Req::SecFetchStorageAccess => {
                    f.sec_fetch_storage_access = f.sec_fetch_storage_access.or(Some(v))
                }
                Req::Upgrade => f.upgrade = f.upgrade.or(Some(v)),
                Req::XForwardedProto => f.x_forwarded_proto = f.x_forwarded_proto.or(Some(v)),
                Req::Forwarded => f.forwarded = f.forwarded.or(Some(v)),
            }
        }
    }

    /// The proxy in front of this hop received the request over HTTPS (`X-Forwarded-Proto:
    /// https`, `Forwarded: proto=https`, RFC 7239 §5.4).
    pub fn forwarded_https(&self) -> bool {
        let xfp = self.x_forwarded_proto.is_some_and(|v| {
            list(v)
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(b"https"))
        });
        let fwd = self.forwarded.is_some_and(|v| {
            list(v).next().is_some_and(|e| {
                e.split(|&c| c == b';').any(|pair| {
                    let pair = trim(pair);
                    pair.len() == 11
                        && pair[..6].eq_ignore_ascii_case(b"proto=")
                        && pair[6..].eq_ignore_ascii_case(b"https")
                })
            })
        });
        xfp || fwd
    }
}

impl<'a> RespFacts<'a> {
    pub fn of(h: &'a Headers) -> Self {
        let mut f = RespFacts::default();
        f.read(h);
        f
    }

    /// [`RespFacts::of`] into facts already in place (no copy of this large struct).
    pub fn read(&mut self, h: &'a Headers) {
        let f = self;
        for x in h.iter() {
            let Some(field) = RESP.find(x.name) else {
                continue;
            };
            let v = x.value;
            match field {
                Resp::CacheControl => f.cache_control.add(v),
                Resp::Pragma => f.pragma = f.pragma.or(Some(v)),
                Resp::Date => f.date = f.date.or(Some(v)),
                Resp::Expires => f.expires.add(v),
                Resp::Age => f.age = f.age.or(Some(v)),
                Resp::Etag => f.etag = f.etag.or(Some(v)),
                Resp::LastModified => f.last_modified = f.last_modified.or(Some(v)),
                Resp::Vary => f.vary.add(v),
                Resp::SetCookie => f.set_cookie.add(v),
                Resp::ContentRange => f.content_range = f.content_range.or(Some(v)),
                Resp::AcceptRanges => f.accept_ranges = f.accept_ranges.or(Some(v)),
                Resp::ContentType => f.content_type = f.content_type.or(Some(v)),
                Resp::Location => f.location = f.location.or(Some(v)),
                Resp::WwwAuthenticate => f.www_authenticate.add(v),
                Resp::ProxyAuthenticate => f.proxy_authenticate.add(v),
                Resp::Acao => f.acao.add(v),
                Resp::Acac => f.acac = f.acac.or(Some(v)),
                Resp::Acam => f.acam.add(v),
                Resp::Acah => f.acah.add(v),
                Resp::Aceh => f.aceh.add(v),
                Resp::Acma => f.acma = f.acma.or(Some(v)),
            }
        }
    }

    /// Any field the cache part reads.
    pub fn has_cache_fields(&self) -> bool {
        self.cache_control.present()
            || self.pragma.is_some()
            || self.expires.present()
            || self.age.is_some()
            || self.etag.is_some()
            || self.last_modified.is_some()
            || self.vary.present()
    }
}

// ---- lists and tokens --------------------------------------------------------------------

pub fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// The elements of a comma-separated list (RFC 9110 §5.6.1), quoted strings kept whole, empty
/// elements skipped.
pub fn list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = v;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            // Up to the first comma or quote at once: most elements have no quoted string.
            let (mut end, from) = match memchr::memchr2(b',', b'"', rest) {
                None => (rest.len(), rest.len()),
                Some(i) if rest.get(i) == Some(&b',') => (i, rest.len()),
                Some(i) => (rest.len(), i),
            };
            let mut quoted = false;
            let mut esc = false;
            for (i, &c) in rest.iter().enumerate().skip(from) {
                if esc {
                    esc = false;
                    continue;
                }
                match c {
                    b'\\' if quoted => esc = true,
                    b'"' => quoted = !quoted,
                    b',' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let item = trim(&rest[..end]);
            rest = rest.get(end + 1..).unwrap_or_default();
            if !item.is_empty() {
                return Some(item);
            }
        }
    })
}

/// A quoted-string's content (escapes undone), or the bytes as they are.
pub fn unquote(v: &[u8]) -> String {
    let v = trim(v);
    if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        let inner = &v[1..v.len() - 1];
        let mut out = Vec::with_capacity(inner.len());
        let mut esc = false;
        for &c in inner {
            if esc {
                out.push(c);
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    text(v)
}

/// Wire bytes as text (U+FFFD for bytes that are not UTF-8).
pub fn text(v: &[u8]) -> String {
    match std::str::from_utf8(v) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(v).into_owned(),
    }
}

/// `part`, a slice of `whole`, as the text it is of `whole_text` (`whole` read as text once, not
/// each of its slices): None when it is not a slice of `whole` or its ends are not character
/// boundaries. It is then what [`text`] makes of `part`.
pub fn slice_text<'t>(whole: &[u8], whole_text: &'t str, part: &[u8]) -> Option<&'t str> {
    if whole.len() != whole_text.len() {
        return None;
    }
    let at = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = at.checked_add(part.len())?;
    if end > whole.len() {
        return None;
    }
    whole_text.get(at..end)
}

/// A non-negative decimal number (delta-seconds, lengths); saturates at u64::MAX.
pub fn number(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |a, &c| {
        a.saturating_mul(10).saturating_add(u64::from(c - b'0'))
    }))
}

// ---- masking -----------------------------------------------------------------------------

/// How many characters of a cookie value stay visible: at most 4, at most half of it.
pub fn mask_keep(len: usize) -> usize {
    (len / 2).min(4)
}

/// The length of a value before masking (`abcd…(12 more bytes masked)` → 16), or its length.
/// The length of the kept part is the one of its text (U+FFFD for bytes that are not UTF-8).
pub fn unmasked_len(v: &[u8]) -> usize {
    // Read on the bytes, without a text copy of the whole value: `…` is E2 80 A6 wherever those
    // bytes are (E2 is never a continuation byte), and the rest is ASCII.
    const ELLIPSIS_TAIL: [u8; 2] = [0x80, 0xa6];
    let mut from = 0;
    let at = loop {
        let Some(i) = v.get(from..).and_then(|r| memchr::memchr(0xe2, r)) else {
            return v.len();
        };
        let i = from + i;
        if v.get(i + 1..i + 3) == Some(&ELLIPSIS_TAIL[..]) {
            break i;
        }
        from = i + 1;
    };
    let (keep, rest) = (&v[..at], &v[at + 3..]);
    let n = rest
        .strip_prefix(b"(")
        .and_then(|r| r.strip_suffix(b" more bytes masked)"))
        .and_then(|n| std::str::from_utf8(n).ok())
        .and_then(|n| n.parse::<usize>().ok());
    match n {
        Some(n) => {
            let keep = if keep.is_ascii() {
                keep.len()
            } else {
                String::from_utf8_lossy(keep).len()
            };
            keep.saturating_add(n)
        }
        None => v.len(),
    }
}

// ---- URLs and origins --------------------------------------------------------------------

/// Where the parts of a canonical URL (`scheme://host[:port]/path?query`) are in its string.
#[derive(Clone, Copy, Debug, Default)]
pub struct UrlParts {
    /// End of `scheme://authority`: the origin.
    pub origin_end: usize,
    pub host: (usize, usize),
    /// The path without the query.
    pub path: (usize, usize),
    pub https: bool,
}

impl UrlParts {
    pub fn origin<'s>(&self, s: &'s str) -> &'s str {
        s.get(..self.origin_end).unwrap_or_default()
    }
    pub fn host<'s>(&self, s: &'s str) -> &'s str {
        s.get(self.host.0..self.host.1).unwrap_or_default()
    }
    pub fn path<'s>(&self, s: &'s str) -> &'s str {
        s.get(self.path.0..self.path.1).unwrap_or("/")
    }
}

/// Appends `scheme://host[:port]` (lowercase, userinfo dropped, default port elided) to `out`;
/// returns the host's range.
fn push_origin(scheme: &str, authority: &str, out: &mut String) -> (usize, usize) {
    let s0 = out.len();
    out.push_str(scheme);
    if let Some(s) = out.get_mut(s0..) {
        s.make_ascii_lowercase();
    }
    let default = match out.get(s0..).unwrap_or_default() {
        "http" | "ws" => "80",
        "https" | "wss" => "443",
        _ => "",
    };
    out.push_str("://");
    // Byte scans: these strings are short, and the `char` searchers' setup cost more than
    // the scan.
    let auth = match authority.bytes().rposition(|c| c == b'@') {
        Some(i) => authority.get(i + 1..).unwrap_or_default(),
        None => authority,
    };
    let (host, port) = split_host_port(auth);
    let v6 = host.bytes().any(|c| c == b':');
    if v6 {
        out.push('[');
    }
    let h0 = out.len();
    out.push_str(host);
    let h1 = out.len();
    if let Some(h) = out.get_mut(h0..h1) {
        h.make_ascii_lowercase();
    }
    if v6 {
        out.push(']');
    }
    if let Some(p) = port
        && !p.is_empty()
        && p != default
    {
        out.push(':');
        out.push_str(p);
    }
    (h0, h1)
}

/// `host:port`, `[v6]:port`, `host`.
pub fn split_host_port(auth: &str) -> (&str, Option<&str>) {
    if let Some(rest) = auth.strip_prefix('[') {
        let Some(i) = rest.bytes().position(|c| c == b']') else {
            return (auth, None);
        };
        let (h, tail) = (
            rest.get(..i).unwrap_or_default(),
            rest.get(i + 1..).unwrap_or_default(),
        );
        return (h, tail.strip_prefix(':'));
    }
    match auth.bytes().rposition(|c| c == b':') {
        Some(i) => {
            let (h, p) = (
                auth.get(..i).unwrap_or_default(),
                auth.get(i + 1..).unwrap_or_default(),
            );
            if p.bytes().all(|c| c.is_ascii_digit()) {
                (h, Some(p))
            } else {
                (auth, None)
            }
        }
        None => (auth, None),
    }
}

/// Splits an absolute URL into scheme, authority and the rest (path, query, fragment).
pub fn split_absolute(u: &str) -> Option<(&str, &str, &str)> {
    // Byte searches: `split_once("://")` and `find([..])` set up searchers that cost more than
    // these short strings' scan. The first `://`, as `split_once` finds it.
    let b = u.as_bytes();
    let at = memchr::memchr_iter(b':', b).find(|&i| b.get(i + 1..i + 3) == Some(b"//"))?;
    let (scheme, rest) = (u.get(..at)?, u.get(at + 3..)?);
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
    {
        return None;
    }
    let end = memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()).unwrap_or(rest.len());
    Some((scheme, &rest[..end], &rest[end..]))
}

/// Appends the path and query of `rest` (fragment dropped; an empty path becomes `/`);
/// returns the path's range.
fn push_path_query(rest: &str, out: &mut String) -> (usize, usize) {
    // Byte searches (`#` and `?` are ASCII: the cuts are char boundaries).
    let rest = match memchr::memchr(b'#', rest.as_bytes()) {
        Some(i) => rest.get(..i).unwrap_or_default(),
        None => rest,
    };
    let p0 = out.len();
    if !rest.starts_with('/') {
        out.push('/');
    }
    out.push_str(rest);
    let q = memchr::memchr(b'?', rest.as_bytes()).map(|i| i + usize::from(!rest.starts_with('/')));
    let p1 = q.map_or(out.len(), |i| p0 + i);
    (p0, p1)
}

/// The canonical URL of a request (`http://host[:port]/path?query`) written into `out`.
/// Origin-form targets take the host from `Host` (else the server's address); absolute-form
/// targets (to proxies) are used as they are. None for authority- and asterisk-form.
pub fn request_url(
    target: &str,
    host: Option<&[u8]>,
    server: Endpoint,
    https: bool,
    out: &mut String,
) -> Option<UrlParts> {
    out.clear();
    if target.starts_with('/') {
        let host_s: std::borrow::Cow<'_, str> = match host.map(trim) {
            Some(h) if !h.is_empty() => match std::str::from_utf8(h) {
                Ok(s) => s.into(),
                Err(_) => String::from_utf8_lossy(h),
            },
            _ => server.to_string().into(),
        };
        let auth: &str = &host_s;
        let host = push_origin(if https { "https" } else { "http" }, auth, out);
        let origin_end = out.len();
        let path = push_path_query(target, out);
        return Some(UrlParts {
            origin_end,
            host,
            path,
            https,
        });
    }
    let (scheme, auth, rest) = split_absolute(target)?;
    let host = push_origin(scheme, auth, out);
    let origin_end = out.len();
    let path = push_path_query(rest, out);
    Some(UrlParts {
        origin_end,
        host,
        path,
        https: scheme.eq_ignore_ascii_case("https"),
    })
}

/// Origins remembered by [`UrlBuf`] (a capture names few hosts).
const ORIGINS: usize = 64;

/// The canonical URLs of the requests, written one at a time into one buffer. The origins of
/// origin-form requests are remembered per `Host` value and scheme (in a few slots, picked by
/// a hash of the value): a request to a host seen before only has its path and query written.
#[derive(Default)]
pub struct UrlBuf {
    pub url: String,
    origins: Vec<Option<Origin>>,
}

/// An origin as [`request_url`] wrote it, and what it was built from.
struct Origin {
    https: bool,
    /// The `Host` value (trimmed); empty: the server's address was used.
    host: Vec<u8>,
    server: Endpoint,
    /// `scheme://host[:port]`, and where the host is in it.
    origin: String,
    host_range: (usize, usize),
}

impl UrlBuf {
    /// [`request_url`] into `self.url`.
    pub fn request(
        &mut self,
        target: &str,
        host: Option<&[u8]>,
        server: Endpoint,
        https: bool,
    ) -> Option<UrlParts> {
        if !target.starts_with('/') {
            return request_url(target, host, server, https, &mut self.url);
        }
        let h = host.map(trim).unwrap_or_default();
        let slot = (key_of(&[h]) as usize) % ORIGINS;
        if let Some(Some(o)) = self.origins.get(slot)
            && o.https == https
            && o.host == h
            && (!h.is_empty() || o.server == server)
        {
            self.url.clear();
            self.url.push_str(&o.origin);
            let path = push_path_query(target, &mut self.url);
            return Some(UrlParts {
                origin_end: o.origin.len(),
                host: o.host_range,
                path,
                https,
            });
        }
        let parts = request_url(target, host, server, https, &mut self.url)?;
        if self.origins.is_empty() {
            self.origins.resize_with(ORIGINS, || None);
        }
        if let Some(o) = self.origins.get_mut(slot) {
            let o = o.get_or_insert_with(|| Origin {
                https,
                host: Vec::new(),
                server,
                origin: String::new(),
                host_range: parts.host,
            });
            o.https = https;
            o.host.clear();
            o.host.extend_from_slice(h);
            o.server = server;
            o.origin.clear();
            o.origin
                .push_str(self.url.get(..parts.origin_end).unwrap_or_default());
            o.host_range = parts.host;
        }
        Some(parts)
    }
}

/// An `Origin` value in the same canonical form (`null` and unparsable values as sent).
pub fn canonical_origin(v: &str) -> String {
    match split_absolute(v.trim()) {
        Some((scheme, auth, rest)) if rest.is_empty() || rest == "/" => {
            let mut out = String::with_capacity(v.len());
            push_origin(scheme, auth, &mut out);
            out
        }
        _ => v.trim().to_string(),
    }
}

/// Resolves a `Location` against the request's canonical URL (RFC 3986 §5.2, fragment
/// dropped) and writes the canonical result into `out`.
pub fn resolve(
    base: &str,
    base_parts: &UrlParts,
    location: &str,
    out: &mut String,
) -> Option<UrlParts> {
    out.clear();
    let loc = location.trim();
    if let Some((scheme, auth, rest)) = split_absolute(loc) {
        let host = push_origin(scheme, auth, out);
        let origin_end = out.len();
        let path = push_dotless(rest, out);
        return Some(UrlParts {
            origin_end,
            host,
            path,
            https: scheme.eq_ignore_ascii_case("https"),
        });
    }
    let origin = base_parts.origin(base);
    let scheme = origin.split("://").next().unwrap_or("http");
    if let Some(rest) = loc.strip_prefix("//") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = push_origin(scheme, &rest[..end], out);
        let origin_end = out.len();
        let path = push_dotless(&rest[end..], out);
        return Some(UrlParts {
            origin_end,
            host,
            path,
            https: scheme == "https",
        });
    }
    out.push_str(origin);
    let origin_end = out.len();
    let host = base_parts.host;
    let base_path = base_parts.path(base);
    let merged;
    let rel: &str = if loc.is_empty() || loc.starts_with('#') {
        merged = base.get(base_parts.path.0..).unwrap_or("/").to_string();
        &merged
    } else if loc.starts_with('?') {
        merged = format!("{base_path}{loc}");
        &merged
    } else if loc.starts_with('/') {
        loc
    } else {
        let dir = base_path.rsplit_once('/').map_or("", |(d, _)| d);
        merged = format!("{dir}/{loc}");
        &merged
    };
    let path = push_dotless(rel, out);
    Some(UrlParts {
        origin_end,
        host,
        path,
        https: scheme == "https",
    })
}

/// Appends path and query with dot segments removed (RFC 3986 §5.2.4).
fn push_dotless(rest: &str, out: &mut String) -> (usize, usize) {
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = match rest.find('?') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let mut segs: Vec<&str> = Vec::new();
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    for s in path.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let p0 = out.len();
    out.push('/');
    out.push_str(&segs.join("/"));
    if trailing && !segs.is_empty() {
        out.push('/');
    }
    let p1 = out.len();
    if let Some(q) = query {
        out.push_str(q);
    }
    (p0, p1)
}

/// Whether a host is a potentially trustworthy origin without TLS, as browsers and curl treat
/// it: `localhost`, `*.localhost`, 127.0.0.0/8, `::1` (so Secure cookies work there).
pub fn trustworthy_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.ends_with(".localhost")
        || h == "::1"
        // Only 127.x.x.x is parsed: nearly every host is a name (a parse that fails cost more
        // than this test).
        || h.starts_with("127.")
            && h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| a.octets()[0] == 127)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ep() -> Endpoint {
        Endpoint {
            ip: "192.0.2.9".parse().unwrap(),
            port: 8080,
        }
    }

    #[test]
    fn rfc9110_4_2_3_canonical_request_urls() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                "/a/b?x=1",
                Some("Example.COM"),
                Some("http://example.com/a/b?x=1"),
            ),
            ("/", Some("example.com:80"), Some("http://example.com/")),
            (
                "/x",
                Some("example.com:8001"),
                Some("http://example.com:8001/x"),
            ),
            ("/x", None, Some("http://192.0.2.9:8080/x")),
            (
                "http://Proxy.example:80/p#frag",
                Some("ignored"),
                Some("http://proxy.example/p"),
            ),
            ("http://h.example?q", None, Some("http://h.example/?q")),
            ("https://h.example:443/s", None, Some("https://h.example/s")),
            ("http://u:pw@h.example/x", None, Some("http://h.example/x")),
            ("example.com:443", None, None),
            ("*", None, None),
        ];
        for (target, host, want) in cases {
            let mut s = String::new();
            let got = request_url(target, host.map(str::as_bytes), ep(), false, &mut s)
                .map(|_| s.clone());
            assert_eq!(got.as_deref(), *want, "{target} {host:?}");
        }
        let mut s = String::new();
        let p = request_url("/a/b?q", Some(b"[::1]:8080"), ep(), false, &mut s).unwrap();
        assert_eq!(s, "http://[::1]:8080/a/b?q");
        assert_eq!(p.host(&s), "::1");
        assert_eq!(p.path(&s), "/a/b");
    }

    #[test]
    fn the_url_buffer_builds_what_request_url_builds() {
        let other = Endpoint {
            ip: "192.0.2.10".parse().unwrap(),
            port: 80,
        };
        // (target, Host, server, https): the origin kept or rebuilt as the host, the scheme
        // or the server (without Host) changes, and after forms that are not origin-form.
        let seq: &[(&str, Option<&str>, Endpoint, bool)] = &[
            ("/a?x", Some("Example.com"), ep(), false),
            ("/b", Some("Example.com"), ep(), false),
            ("/c", Some(" Example.com "), ep(), false),
            ("/d", Some("Example.com"), ep(), true),
            ("/e", Some("example.com"), ep(), true),
            ("/f", None, ep(), true),
            ("/g", Some(""), ep(), true),
            ("/h", None, other, true),
            ("http://proxy.example/p", None, other, true),
            ("/i", None, other, true),
            ("*", None, other, true),
            ("/j", None, other, true),
            ("example.com:443", Some("x"), other, false),
            ("x", Some("x"), other, false),
            ("/k", Some("x"), other, false),
        ];
        let mut b = UrlBuf::default();
        for (target, host, server, https) in seq {
            let host = host.map(str::as_bytes);
            let mut want = String::new();
            let wp = request_url(target, host, *server, *https, &mut want);
            let gp = b.request(target, host, *server, *https);
            assert_eq!(gp.is_some(), wp.is_some(), "{target}");
            if let (Some(g), Some(w)) = (gp, wp) {
                assert_eq!(b.url, want, "{target}");
                assert_eq!(
                    (g.origin(&b.url), g.host(&b.url), g.path(&b.url), g.https),
                    (w.origin(&want), w.host(&want), w.path(&want), w.https),
                    "{target}"
                );
            }
        }
    }

    #[test]
    fn rfc3986_5_2_resolving_locations() {
        let mut base = String::new();
        let bp = request_url(
            "/r/a/b?q=1",
            Some(b"localhost:8001"),
            ep(),
            false,
            &mut base,
        )
        .unwrap();
        let cases: &[(&str, &str)] = &[
            ("/r/302", "http://localhost:8001/r/302"),
            ("c", "http://localhost:8001/r/a/c"),
            ("../c", "http://localhost:8001/r/c"),
            ("./", "http://localhost:8001/r/a/"),
            ("?z", "http://localhost:8001/r/a/b?z"),
            ("", "http://localhost:8001/r/a/b?q=1"),
            ("#f", "http://localhost:8001/r/a/b?q=1"),
            ("//other.example/x", "http://other.example/x"),
            (
                "HTTPS://Secure.Example:443/login",
                "https://secure.example/login",
            ),
            (
                "http://localhost:8001/done#top",
                "http://localhost:8001/done",
            ),
        ];
        for (loc, want) in cases {
            let mut s = String::new();
            resolve(&base, &bp, loc, &mut s).unwrap();
            assert_eq!(s, *want, "{loc}");
        }
    }

    #[test]
    fn unmasked_lengths_as_the_text_reads() {
        // What the text of the value says, the way it was read before: on its text.
        let on_text = |v: &[u8]| -> usize {
            let t = String::from_utf8_lossy(v);
            if let Some((keep, rest)) = t.split_once('…')
                && let Some(n) = rest
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(" more bytes masked)"))
                    .and_then(|n| n.parse::<usize>().ok())
            {
                return keep.len().saturating_add(n);
            }
            v.len()
        };
        let cases: &[&[u8]] = &[
            "abcd…(12 more bytes masked)".as_bytes(),
            "…(3 more bytes masked)".as_bytes(),
            "é…(+7 more bytes masked)".as_bytes(),
            "ab…(x more bytes masked)".as_bytes(),
            "ab…12 more bytes masked)".as_bytes(),
            "ab…(12 more bytes masked".as_bytes(),
            "€…(5 more bytes masked)".as_bytes(),
            "a…b…(5 more bytes masked)".as_bytes(),
            b"plain",
            b"",
            b"\xe2\x80",
            b"\xe2\x80\xe2\x80\xa6(4 more bytes masked)",
            b"\xffab\xe2\x80\xa6(4 more bytes masked)",
            b"ab\xe2\x80\xa6(4\xe2 more bytes masked)",
            b"ab\xe2\x80\xa6(99999999999999999999999 more bytes masked)",
        ];
        for v in cases {
            assert_eq!(
                unmasked_len(v),
                on_text(v),
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
        assert_eq!(unmasked_len("abcd…(12 more bytes masked)".as_bytes()), 16);
    }

    #[test]
    fn slices_of_a_text_read_once_are_what_text_makes_of_them() {
        let lines: &[&[u8]] = &[
            "sid=ae64…(28 more bytes masked); pref=8…(1 more bytes masked); _ga=GA1.…(2 more bytes masked)".as_bytes(),
            b"a=1; b=2;c; d=x=y",
            "é=€; ü".as_bytes(),
            b"",
        ];
        for line in lines {
            let t = std::str::from_utf8(line).unwrap();
            for i in 0..=line.len() {
                for j in i..=line.len() {
                    let part = &line[i..j];
                    match slice_text(line, t, part) {
                        Some(s) => assert_eq!(s, text(part), "{i}..{j}"),
                        // Only where a cut splits a character.
                        None => assert!(
                            std::str::from_utf8(part).is_err()
                                || !t.is_char_boundary(i)
                                || !t.is_char_boundary(j)
                        ),
                    }
                }
            }
        }
        // The line and its text must be the same bytes.
        assert_eq!(slice_text(b"ab", "a", b"a"), None);
    }

    #[test]
    fn lists_keep_quoted_commas() {
        let v: Vec<&[u8]> = list(br#"a, "b,c" , ,d=1"#).collect();
        assert_eq!(v, vec![&b"a"[..], br#""b,c""#, b"d=1"]);
        assert_eq!(unquote(br#""a\"b""#), "a\"b");
        // Against the plain scan (quotes toggle, a backslash escapes inside them only, a
        // comma outside them ends the element), quotes anywhere in an element.
        let plain = |v: &[u8]| -> Vec<Vec<u8>> {
            let (mut out, mut cur, mut quoted, mut esc) = (Vec::new(), Vec::new(), false, false);
            for &c in v {
                if esc {
                    esc = false;
                } else if c == b'\\' && quoted {
                    esc = true;
                } else if c == b'"' {
                    quoted = !quoted;
                } else if c == b',' && !quoted {
                    out.push(std::mem::take(&mut cur));
                    continue;
                }
                cur.push(c);
            }
            out.push(cur);
            out.into_iter()
                .map(|e| trim(&e).to_vec())
                .filter(|e| !e.is_empty())
                .collect()
        };
        for v in [
            &br#"a\,b"#[..],
            br#""a\"b,c",d"#,
            br#"x="y,z", w"#,
            br#"x=a"b,c"d,e"#,
            br#""unterminated, a"#,
            br#",,, a ,"#,
            br#"a"\","b"#,
            b"",
        ] {
            let got: Vec<Vec<u8>> = list(v).map(<[u8]>::to_vec).collect();
            assert_eq!(got, plain(v), "{:?}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn bounded_map_drops_the_oldest_and_counts() {
        let mut m: Bounded<u32, u32> = Bounded::new(2);
        assert!(!m.insert(1, 10));
        assert!(!m.insert(2, 20));
        assert!(!m.insert(1, 11)); // replaced: 1 is now the newest
        assert!(m.insert(3, 30)); // evicts 2
        assert_eq!(m.get(&2), None);
        assert_eq!(m.get(&1), Some(&11));
        assert_eq!(m.evicted, 1);
        for i in 0..1000 {
            m.insert(1, i);
        }
        assert!(m.order.len() <= 2 * 2 + 17);
    }

    /// The slab-backed map against a plain model (entries in order of their last insertion,
    /// the oldest dropped past `cap`) over a long run of inserts, lookups and removals, so a
    /// place reused after a removal or an eviction never shows another key's value.
    #[test]
    fn bounded_map_is_the_plain_model_whatever_the_order_of_operations() {
        let cap = 5;
        let mut m: Bounded<u32, u64> = Bounded::new(cap);
        let mut model: Vec<(u32, u64)> = Vec::new();
        let mut evicted = 0u64;
        let mut x = 12345u64;
        for step in 0..20_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = ((x >> 33) % 9) as u32;
            match (x >> 40) % 4 {
                0 => {
                    let got = m.insert(k, step);
                    let mut dropped = false;
                    if let Some(p) = model.iter().position(|e| e.0 == k) {
                        model.remove(p);
                    } else if model.len() >= cap {
                        model.remove(0);
                        dropped = true;
                        evicted += 1;
                    }
                    model.push((k, step));
                    assert_eq!(got, dropped, "step {step}");
                }
                1 => {
                    let (v, got) = m.get_or_insert_with(k, || step);
                    let v = *v;
                    let mut dropped = false;
                    if !model.iter().any(|e| e.0 == k) {
                        if model.len() >= cap {
                            model.remove(0);
                            dropped = true;
                            evicted += 1;
                        }
                        model.push((k, step));
                    }
                    assert_eq!(got, dropped, "step {step}");
                    assert_eq!(Some(v), model.iter().find(|e| e.0 == k).map(|e| e.1));
                }
                2 => {
                    let want = model
                        .iter()
                        .position(|e| e.0 == k)
                        .map(|p| model.remove(p).1);
                    assert_eq!(m.remove(&k), want, "step {step}");
                }
                _ => {
                    let want = model.iter().find(|e| e.0 == k).map(|e| e.1);
                    assert_eq!(m.get(&k).copied(), want, "step {step}");
                }
            }
            assert_eq!(m.len(), model.len(), "step {step}");
        }
        assert_eq!(m.evicted, evicted);
    }

    #[test]
    fn every_listed_field_is_classified_whatever_its_case() {
        // Each name must reach its own match arm, in any case.
        let one = |n: &str| {
            let mut h = Headers::with_capacity(1, 64);
            h.push(n.as_bytes(), b"x", None, false);
            h
        };
        let mixed = |n: &str| -> String {
            n.chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        };
        let none = format!("{:?}", ReqFacts::default());
        for &(n, f) in REQ_FIELDS {
            for v in [n.to_string(), n.to_ascii_uppercase(), mixed(n)] {
                assert_eq!(REQ.find(v.as_bytes()), Some(f), "{v}");
                assert_ne!(format!("{:?}", ReqFacts::of(&one(&v))), none, "{v}");
            }
            assert_eq!(
                RESP.find(n.as_bytes()).is_some(),
                RESP_FIELDS.iter().any(|r| r.0 == n)
            );
        }
        let none = format!("{:?}", RespFacts::default());
        for &(n, f) in RESP_FIELDS {
            for v in [n.to_string(), n.to_ascii_uppercase(), mixed(n)] {
                assert_eq!(RESP.find(v.as_bytes()), Some(f), "{v}");
                assert_ne!(format!("{:?}", RespFacts::of(&one(&v))), none, "{v}");
            }
        }
        let h = one("x-unknown-field");
        assert_eq!(format!("{:?}", RespFacts::of(&h)), none);
    }

    #[test]
    fn field_names_differ_by_any_byte() {
        // A byte changed anywhere (a letter for another, a `-` for the control byte its case
        // bit would give, an `@` that the case bit makes a backquote), a byte more or less:
        // no longer the field.
        for (n, _) in REQ_FIELDS {
            let b = n.as_bytes();
            for i in 0..b.len() {
                for c in [b[i] ^ 0x20 ^ 0x01, b[i] & !0x20, b'@', b'`', 0x0d] {
                    let mut v = b.to_vec();
                    v[i] = c;
                    if v.eq_ignore_ascii_case(b) {
                        continue;
                    }
                    assert_eq!(REQ.find(&v), None, "{:?}", String::from_utf8_lossy(&v));
                }
            }
            assert_eq!(REQ.find(&b[1..]), None, "{n}");
            assert_eq!(REQ.find(&[b, &b"s"[..]].concat()), None, "{n}");
        }
        for n in ["", "h", "x-", "ag", "AGE", "agE"] {
            assert_eq!(
                RESP.find(n.as_bytes()).is_some(),
                n.eq_ignore_ascii_case("age"),
                "{n:?}"
            );
        }
    }

    #[test]
    fn trustworthy_hosts_like_browsers() {
        for h in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
        ] {
            assert!(trustworthy_host(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1", "localhost.example"] {
            assert!(!trustworthy_host(h), "{h}");
        }
    }
}
