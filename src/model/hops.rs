//! Proxy hops: a client-side transaction paired with the upstream transaction a proxy made
//! for it, and what the proxy changed (documented in `docs/json-format.md`).

use serde::Serialize;

use super::Endpoint;

/// One leg of a hop.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Leg {
    pub connection: u64,
    pub transaction: u64,
}

/// The proxy in the middle.
#[derive(Clone, Debug, Serialize)]
pub struct ProxyInfo {
    /// Where the client reached it.
    pub address: Endpoint,
    /// Where its upstream request came from, when that is another IP address than `address`
    /// (a proxy with a front and a back network, or legs captured on two hosts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back_address: Option<Endpoint>,
    /// `nginx`, `apache`, `haproxy`, `envoy`, `traefik`, `tinyproxy`, ... when it says so (or
    /// when its behaviour gives it away; `product_from` says which).
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_from: Option<String>,
}

/// A header the proxy removed or added, and what that means.
#[derive(Clone, Debug, Serialize)]
pub struct HeaderChange {
    pub name: String,
    /// The front leg's value (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub front: Option<String>,
    /// The back leg's value (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back: Option<String>,
    /// `hop-by-hop-stripped` (correct), `end-to-end-dropped` (wrong), `hop-by-hop-forwarded`
    /// (wrong), `hop-by-hop-recreated` (Upgrade/Connection set again for an upgrade: needed),
    /// `proxy-added` (Via, X-Forwarded-*, Forwarded, X-Real-IP, request ids), `hop-local`
    /// (hop-by-hop fields of the other hop), `host-rewritten`, `expect-handled` (Expect
    /// answered by the proxy itself, RFC 9110 §10.1.1), `cache-handled` (`If-*` or `Range`
    /// removed by a cache that answers them itself), `translated` (what HTTP/2 and HTTP/1.x
    /// say differently: connection-specific fields removed going to HTTP/2, `Host` made from
    /// `:authority` or the reverse, `Content-Length`/`Transfer-Encoding` of a body re-framed),
    /// `forbidden-in-http2` (a connection-specific field the proxy sent in HTTP/2, RFC 9113
    /// §8.2.2: wrong), `changed`, `added`.
    pub judgement: &'static str,
}

/// A value that differs between the legs.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub front: String,
    pub back: String,
}

/// What the proxy did to one direction's message.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessageDiff {
    pub headers_removed: Vec<HeaderChange>,
    pub headers_added: Vec<HeaderChange>,
    pub headers_changed: Vec<HeaderChange>,
    /// Hop-by-hop fields that crossed the proxy unchanged (judgement `hop-by-hop-forwarded`):
    /// the proxy should have removed them.
    pub hop_by_hop_forwarded: Vec<HeaderChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Change>,
    /// Request target (absolute-form to origin-form is a forward proxy's normal rewrite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Change>,
    /// Response status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Change>,
    /// Body framing (`chunked`, `content-length`, `close`, `none`, `http2-data`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framing: Option<Change>,
    /// The body's length after transfer decoding (de-chunked, or the DATA frames' payload),
    /// when it differs between the legs and both bodies were seen whole (after content
    /// decoding when the proxy changed the `Content-Encoding`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_length: Option<Change>,
}

/// For upgraded pairs: whether the WebSocket messages went through unchanged in number and
/// size.
#[derive(Clone, Debug, Serialize)]
pub struct Relay {
    pub front_websocket: Option<u64>,
    pub back_websocket: Option<u64>,
    /// Messages client→server on the front leg / on the back leg, and server→client.
    pub to_server: [u64; 2],
    pub to_client: [u64; 2],
    pub bytes_to_server: [u64; 2],
    pub bytes_to_client: [u64; 2],
    /// Frames each way (a proxy may re-frame a message and still relay it faithfully).
    pub frames_to_server: [u64; 2],
    pub frames_to_client: [u64; 2],
    /// The same messages, in number and decoded bytes, both ways.
    pub one_to_one: bool,
    /// And the same frames.
    pub frames_one_to_one: bool,
}

/// A request that crossed a proxy.
#[derive(Clone, Debug, Serialize)]
pub struct ProxyHopRecord {
    pub id: u64,
    pub front: Leg,
    /// The upstream transaction, or null when the proxy answered by itself.
    pub back: Option<Leg>,
    pub client: Endpoint,
    pub proxy: ProxyInfo,
    /// Where the proxy sent the request.
    pub upstream: Option<Endpoint>,
    /// Why the two legs are paired: each clue with its weight.
    pub evidence: Vec<String>,
    /// `high`, `medium` or `low`.
    pub confidence: &'static str,
    pub score: u32,
    /// What the proxy changed in the request (front → back): `headers_removed`,
    /// `headers_added`, `headers_changed`, `version`, `target`, `framing`.
    #[serde(flatten)]
    pub request: MessageDiff,
    /// What it changed in the response (back → front), the same fields and `status`.
    pub response: MessageDiff,
    /// In a chain of proxies: the hop whose client leg is this hop's upstream leg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<Relay>,
    /// Codes of the diagnosis findings on this hop.
    pub diagnosis: Vec<&'static str>,
}

impl MessageDiff {
    fn heap_bytes(&self) -> usize {
        let change = |c: &HeaderChange| {
            size_of::<HeaderChange>()
                + c.name.capacity()
                + c.front.as_ref().map_or(0, String::capacity)
                + c.back.as_ref().map_or(0, String::capacity)
        };
        let pair = |c: &Option<Change>| {
            c.as_ref()
                .map_or(0, |c| c.front.capacity() + c.back.capacity())
        };
        [
            &self.headers_removed,
            &self.headers_added,
            &self.headers_changed,
            &self.hop_by_hop_forwarded,
        ]
        .iter()
        .flat_map(|v| v.iter())
        .map(change)
        .sum::<usize>()
            + pair(&self.version)
            + pair(&self.target)
            + pair(&self.status)
            + pair(&self.framing)
            + pair(&self.body_length)
    }
}

impl ProxyHopRecord {
    /// Heap bytes held beyond the record's own size (the diffs' names and values, the
    /// evidence), for the correlator's memory bound.
    pub fn heap_bytes(&self) -> usize {
        self.request.heap_bytes()
            + self.response.heap_bytes()
            + self.evidence.iter().map(String::capacity).sum::<usize>()
            + self.proxy.product.as_ref().map_or(0, String::capacity)
            + self.proxy.product_from.as_ref().map_or(0, String::capacity)
    }
}
