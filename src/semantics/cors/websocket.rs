//! WebSocket upgrades with an Origin: browsers apply no CORS to them, so whether the server
//! checks the Origin is read from what it accepts and refuses over the capture.

use super::{State, WsServer};
use crate::model::codes;
use crate::model::semantics::CorsInfo;
use crate::semantics::{Exchange, Found, Side};

/// A WebSocket upgrade with an Origin: no CORS applies, the server must check it (RFC 6455
/// §10.2).
pub(super) fn upgrade(
    c: &Exchange<'_>,
    st: &mut State,
    out: &mut Vec<Found>,
    origin: String,
    same_origin: bool,
) -> CorsInfo {
    let mut info = CorsInfo {
        kind: "websocket",
        origin: origin.clone(),
        credentials: if c.q.cookie.present() {
            "include"
        } else {
            "none-seen"
        },
        credentials_evidence: c.q.cookie.present().then_some("Cookie header"),
        decision: "no-response",
        ..CorsInfo::default()
    };
    let Some(resp) = c.resp else {
        return info;
    };
    let server = c.t.server;
    let (entry, evicted) = st.ws.get_or_insert_with(server, WsServer::default);
    if evicted {
        out.push(Found::limit(&codes::CORS_STATE_LIMIT, "WebSocket servers"));
    }
    if resp.status == 101 {
        info.decision = "accepted";
        if same_origin {
            info.notes.push("same origin as the server".into());
        } else if entry.refused_cross > 0 {
            info.notes.push(
                "cross-origin, accepted; the server refused another Origin earlier in the capture, so it does check Origin".into(),
            );
        } else {
            info.notes.push(
                "cross-origin and accepted: nothing in the capture shows the server checks Origin"
                    .into(),
            );
            out.push(Found::new(
                &codes::CORS_WEBSOCKET_ANY_ORIGIN,
                Side::Response,
                format!(
                    "the WebSocket upgrade from Origin {origin} was accepted (101) and the capture never shows this server refusing an Origin: browsers do not apply CORS to WebSockets, so a server that authenticates by cookie must check Origin itself (RFC 6455 §10.2; cross-site WebSocket hijacking)"
                ),
            ));
        }
    } else {
        info.decision = "refused";
        if !same_origin {
            entry.refused_cross += 1;
        }
        info.notes.push(
            format!(
                "refused with {}: the server may be checking Origin",
                resp.status
            )
            .into(),
        );
    }
    info
}
