//! What the proxy-hops view shows, defined here so the view works before the proxy-hop
//! correlation lands in the model.
//!
//! The correlation (a client leg and the upstream leg a proxy made for it) is built elsewhere
//! and will arrive as a `Record::ProxyHop`; the store turns that record into a [`HopView`]
//! (one `match` arm). Until then the view says how to get hops: capture both legs.

/// One header that differs between the legs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderChange {
    pub name: String,
    /// The value on the client leg (absent when the proxy added it).
    pub front: Option<String>,
    /// The value on the upstream leg (absent when the proxy removed it).
    pub back: Option<String>,
}

/// A request seen on both sides of a proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HopView {
    /// The client leg's transaction (`transactions[].id`).
    pub front_txn: u64,
    /// The upstream leg's transaction, when it was found.
    pub back_txn: Option<u64>,
    /// The proxy, as identified (address, `Server`/`Via`).
    pub proxy: String,
    /// What went wrong between the legs, one line each.
    pub diagnosis: Vec<String>,
    pub headers_removed: Vec<HeaderChange>,
    pub headers_added: Vec<HeaderChange>,
    pub headers_changed: Vec<HeaderChange>,
}

/// Shown when no hop was correlated.
pub const NO_HOPS: &str = "no proxy hops found (capture both legs of the proxy, client side and \
     upstream side, in one capture, e.g. tcpdump -i any; hops are matched by request)";
