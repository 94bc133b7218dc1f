//! The end of HTTP/1 on a connection: a `101 Switching Protocols` or a 2xx to CONNECT hands
//! the stream to what comes next (the stack builds it, from the [`Next`] asked for here); an
//! Upgrade or CONNECT answered otherwise is recorded with the reason.

use super::{Em, HttpConn, Phase, SwitchAsk, Txn};
use crate::analyzers::http::head::{Head, Known};
use crate::analyzers::layer::{Held, Next, Switch, Upgrade};
use crate::base::Timestamp;
use crate::model::http::{SwitchRecord, Timing};
use crate::model::tunnel::TunnelRecord;
use crate::model::{Dir, Record, codes};

impl HttpConn {
    /// The response at `cursor` switched the connection to `protocol` (`tunnel` after a
    /// CONNECT), its head ending at `server_off`: HTTP ends here, and asks the stack for what
    /// comes next.
    pub(super) fn switch_to(
        &mut self,
        cursor: usize,
        protocol: String,
        ts: Timestamp,
        server_off: u64,
        em: &mut Em<'_>,
    ) {
        // Where the new protocol starts on the client side: the first held byte, or the next.
        let client_off = if self.sides[0].buf.is_empty() {
            self.sides[0].next
        } else {
            self.sides[0].buf_offset
        };
        let index = self.next_index;
        let Some(t) = self.pending.get_mut(cursor) else {
            return;
        };
        if protocol == "tunnel" {
            em.sh.stats.tunnels += 1;
        } else {
            em.sh.stats.upgrades += 1;
        }
        t.rec_mut().switched_to = Some(SwitchRecord {
            protocol: protocol.clone(),
        });
        t.response_done = true;
        t.rec_mut().timing.response_end = Some(ts);
        let txn = t.rec().id;
        let request = t.rec().request.as_ref();
        let target = request.map(|r| r.target.clone());
        let h2c = protocol == "h2c";
        // What the next protocol reads: WebSocket both heads' fields, h2c the request's fields
        // and method; nothing else is copied for it.
        let ws = protocol == "websocket";
        let next = if protocol == "tunnel" {
            Next::Connect { txn, target, index }
        } else {
            Next::Upgrade(Box::new(Upgrade {
                protocol,
                txn,
                method: request.filter(|_| h2c).map(|r| r.method.clone()),
                target,
                request: (request.filter(|_| ws || h2c))
                    .map(|r| r.headers.clone())
                    .unwrap_or_default(),
                response: (t.rec().response.as_ref().filter(|_| ws))
                    .map(|r| r.headers.clone())
                    .unwrap_or_default(),
                starts: [client_off, server_off],
                // Only h2c answers the request again (on stream 1).
                request_record: request.filter(|_| h2c).map(|r| Box::new(r.clone())),
                request_timing: Timing {
                    request_start: t.rec().timing.request_start,
                    request_end: t.rec().timing.request_end,
                    ..Timing::default()
                },
                index,
            }))
        };
        self.switch_protocols(next, em);
    }

    /// The connection stops being HTTP after this response: both directions switch, and the
    /// bytes held (client bytes that waited for the answer) belong to the next protocol.
    pub(super) fn switch_protocols(&mut self, next: Next, em: &mut Em<'_>) {
        self.switched = true;
        let mut replay = Vec::new();
        for (d, s) in self.sides.iter_mut().enumerate() {
            s.phase = Phase::Switched;
            let buf = std::mem::take(&mut s.buf);
            if !buf.is_empty() {
                replay.push((Dir::from_index(d), s.buf_offset, Held::Bytes(buf)));
            }
            s.buf_mark = None;
        }
        em.switch = Some(Switch {
            next,
            replay,
            rest: 0,
            keep: true,
        });
    }
}

/// What a response switches the connection to, if it does: `tunnel` for a 2xx to CONNECT, the
/// protocol of a `101` (its first `Upgrade` token, else the request's).
pub(super) fn switch_asked(
    t: &mut Txn,
    h: &Head,
    status: u16,
    offset: u64,
    em: &mut Em<'_>,
) -> Option<String> {
    match (&t.ask, status) {
        (Some(SwitchAsk::Connect), 200..=299) => Some("tunnel".to_string()),
        (_, 101) => {
            let token = h
                .list(Known::Upgrade)
                .next()
                .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase());
            // The request's first token; asked without one known when the request was given
            // up at the pipeline limit.
            let asked = match &t.ask {
                Some(SwitchAsk::Upgrade(tokens)) => Some(tokens.first().cloned()),
                _ => None,
            };
            if asked.is_none() {
                em.finding(
                    Dir::ServerToClient,
                    offset,
                    &codes::HTTP_UNSOLICITED_SWITCH,
                    "101 Switching Protocols to a request that did not ask to upgrade \
                     (RFC 9110 §15.2.2: a server must not switch unasked)"
                        .into(),
                    Some(t),
                );
            }
            Some(
                token
                    .or(asked.flatten())
                    .unwrap_or_else(|| "unknown".into()),
            )
        }
        _ => None,
    }
}

/// An Upgrade or CONNECT that was answered without switching: recorded with the reason.
pub(super) fn refused_switch(t: &mut Txn, at: u64, em: &mut Em<'_>) {
    let (status, reason) = t
        .rec()
        .response
        .as_ref()
        .map(|r| (r.status, r.reason.clone()))
        .unwrap_or_default();
    let server = t
        .rec()
        .response
        .as_ref()
        .and_then(|r| r.headers.get("server"))
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let why = format!("{status} {reason}");
    match &t.ask {
        Some(SwitchAsk::Connect) => {
            // A tunnel that never opened: its record says why, at once.
            let id = em.ids.tunnel();
            let ctx = em.ctx;
            em.out.record(Record::Tunnel(Box::new(TunnelRecord {
                target: t.rec().request.as_ref().map(|r| r.target.clone()),
                refused: Some(why),
                transaction: Some(t.rec().id),
                ..TunnelRecord::new(id, ctx.conn, ctx.client, ctx.server, "connect")
            })));
        }
        Some(SwitchAsk::Upgrade(tokens)) if tokens.iter().any(|x| x == "websocket") => {
            let hint = match status {
                505 => {
                    "the upstream saw an HTTP/1.0 request: a proxy in between speaks HTTP/1.0 upstream and dropped the upgrade"
                }
                426 => {
                    "the server demands an upgrade it did not get: a proxy in between stripped Upgrade/Connection (hop-by-hop)"
                }
                400 => {
                    "the server rejected the handshake: often a proxy that dropped Upgrade/Connection, or a missing/invalid Sec-WebSocket-Key or -Version"
                }
                403 => "the server refused it: often an Origin check",
                404 => "no WebSocket endpoint at this path",
                200..=299 => {
                    "a plain response: the upgrade never reached a WebSocket server (a proxy dropped Upgrade/Connection, or the path is not a WebSocket endpoint)"
                }
                _ => "the server or a proxy answered without switching",
            };
            let via = server
                .map(|s| format!(" (Server: {s})"))
                .unwrap_or_default();
            em.finding(
                Dir::ServerToClient,
                at,
                &codes::WS_UPGRADE_REFUSED,
                format!(
                    "the WebSocket upgrade was answered {status} {reason}{via} instead of 101: \
                     {hint}. If a reverse proxy is in front, it must forward the upgrade (nginx: \
                     proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; \
                     proxy_set_header Connection \"upgrade\";)"
                ),
                Some(t),
            );
        }
        _ => {}
    }
}
