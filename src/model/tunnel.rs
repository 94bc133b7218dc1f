//! Tunnel records: a CONNECT or SOCKS tunnel and what runs inside it (documented in
//! `docs/json-format.md`).

use serde::Serialize;

use super::Endpoint;

/// TLS on a stream: the hellos (in the clear), and what decryption made of the rest.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsInfo {
    pub sni: Vec<String>,
    pub alpn: Vec<String>,
    /// Versions the client offered (`supported_versions`, else the record version), e.g.
    /// `TLS 1.3`.
    pub offered_versions: Vec<String>,
    /// What the server chose, when its hello was seen.
    pub version: Option<String>,
    /// The ALPN protocol the server selected: in its hello up to TLS 1.2, in its encrypted
    /// extensions in TLS 1.3 (known only when decrypted).
    pub alpn_selected: Option<String>,
    /// The suite the server chose, by its IANA name (`0x....` when unknown).
    pub cipher_suite: Option<String>,
    /// The application data was decrypted (from the first encrypted record on).
    pub decrypted: bool,
    /// Why not, when not: `no-keys`, `cipher-unsupported`, `handshake-missing`,
    /// `decrypt-failed` (its `tls.*` finding says more); absent while no encrypted record came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_decrypted: Option<String>,
    /// Where the keys came from: a key log file, `$SSLKEYLOGFILE (path)`, or the capture's
    /// secrets block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_source: Option<String>,
    /// The ClientHello's random in hex: what a key log line names (not secret: it crossed
    /// the wire in clear); absent when the hello was not captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_random: Option<String>,
    /// Seconds from the ClientHello to the client's first protected record (TLS 1.2: its
    /// first application data, after the server's Finished; TLS 1.3: its encrypted
    /// Finished), as the capture point saw them: the TLS handshake; absent when either was
    /// not captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_s: Option<f64>,
    /// Records and application bytes decrypted, client to server.
    pub client_records: u64,
    pub client_bytes: u64,
    /// Records and application bytes decrypted, server to client.
    pub server_records: u64,
    pub server_bytes: u64,
}

/// TLS over the whole run (`capture.tls` in the report).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsStats {
    /// Key sources read: files, `$SSLKEYLOGFILE (path)`, pcapng secrets blocks.
    pub key_sources: Vec<String>,
    /// Client randoms with secrets.
    pub keys: u64,
    /// TLS streams whose hellos were seen (connections and tunnels).
    pub connections: u64,
    pub decrypted: u64,
    /// Streams not decrypted, by reason.
    pub not_decrypted: std::collections::BTreeMap<String, u64>,
    pub records_decrypted: u64,
    pub bytes_decrypted: u64,
}

/// A tunnel through a proxy.
#[derive(Clone, Debug, Serialize)]
pub struct TunnelRecord {
    pub id: u64,
    pub connection: u64,
    pub client: Endpoint,
    /// The proxy (the connection's server).
    pub proxy: Endpoint,
    /// `connect`, `socks4`, `socks4a`, `socks5`.
    pub kind: String,
    /// `host:port` as the client asked.
    pub target: Option<String>,
    /// The proxy agreed (2xx to CONNECT, SOCKS success).
    pub established: bool,
    /// Why not, when refused: the status line or SOCKS reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// The HTTP transaction of the CONNECT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<u64>,
    /// What runs inside: `tls`, `http`, `http2`, `websocket`, `unknown`, or `none` (no bytes).
    pub inner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// Payload bytes through the tunnel, client to target and back.
    pub bytes_to_target: u64,
    pub bytes_from_target: u64,
    /// SOCKS: the authentication method and the user (never the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<&'static str>,
}

impl TunnelRecord {
    /// Heap bytes held beyond the record's own size (an estimate of its strings).
    pub fn heap_bytes(&self) -> usize {
        let s = |v: &Option<String>| v.as_ref().map_or(0, String::capacity);
        self.kind.capacity()
            + s(&self.target)
            + s(&self.refused)
            + self.inner.capacity()
            + s(&self.auth)
            + s(&self.user)
            + self.findings.capacity() * size_of::<&str>()
            + self.tls.as_ref().map_or(0, |_| 256)
    }

    /// A tunnel of `kind` on `connection` as it starts: not established, nothing through it yet.
    pub fn new(id: u64, connection: u64, client: Endpoint, proxy: Endpoint, kind: &str) -> Self {
        TunnelRecord {
            id,
            connection,
            client,
            proxy,
            kind: kind.into(),
            target: None,
            established: false,
            refused: None,
            transaction: None,
            inner: "none".into(),
            tls: None,
            bytes_to_target: 0,
            bytes_from_target: 0,
            auth: None,
            user: None,
            findings: Vec::new(),
        }
    }
}
