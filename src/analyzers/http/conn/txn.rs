//! Requests and responses on a connection: each head opens or completes a transaction in the
//! queue that pairs them (pipelining, 1xx, responses whose request was not captured,
//! HTTP/0.9), and says how its body is framed and whether the connection switches protocols.

use super::body::{BodyRun, empty_body};
use super::switch::switch_asked;
use super::{Em, HttpConn, MAX_CREDS_SEEN, Mark, MethodKind, Phase, SwitchAsk, Txn};
use crate::analyzers::http::body::Framing;
use crate::analyzers::http::content::byteranges::MultipartScanner;
use crate::analyzers::http::head::{self, Head, Known, StartLine};
use crate::analyzers::http::message::{self, HeadFinding};
use crate::model::Dir;
use crate::model::codes;
use crate::model::http::{
    BodyRecord, InterimRecord, MessageStart, RequestRecord, ResponseRecord, TransactionRecord,
};

impl HttpConn {
    fn start(&self, d: usize, mark: Mark, h: &Head) -> MessageStart {
        let _ = d;
        MessageStart {
            packet: mark.packet,
            stream_offset: mark.offset,
            head_bytes: h.len as u64,
        }
    }

    pub(super) fn new_txn(&mut self, em: &mut Em<'_>) -> Txn {
        let id = em.sh.next_txn_id();
        let index = self.next_index;
        self.next_index += 1;
        Txn::new(Box::new(TransactionRecord::new(
            id,
            em.ctx.conn,
            index,
            self.secure,
            em.ctx.client,
            em.ctx.server,
        )))
    }

    pub(super) fn request_head(
        &mut self,
        h: &mut Head,
        mark: Mark,
        after_gap: bool,
        em: &mut Em<'_>,
    ) {
        em.sh.stats.requests += 1;
        if self.pending.len() >= em.sh.cfg.max_pending && self.give_up_oldest(mark, em) {
            return;
        }
        let mut t = self.new_txn(em);
        let mut f: Vec<HeadFinding> = Vec::new();
        message::head_findings(h, true, &mut f);
        message::host_findings(h, &mut f);
        let framing = message::request_framing(h, &mut f);
        // The start line's parts move into the record (the findings above have read it).
        let (method, target, version) = match &mut h.start {
            StartLine::Request {
                method,
                target,
                version,
            } => (std::mem::take(method), std::mem::take(target), *version),
            StartLine::Response { version, .. } => (Vec::new(), Vec::new(), *version),
        };
        let upgrade = message::upgrade_tokens(h);
        if method == b"CONNECT" {
            t.ask = Some(SwitchAsk::Connect);
        } else if !upgrade.is_empty() {
            t.ask = Some(SwitchAsk::Upgrade(upgrade));
        }
        if !self.secure {
            self.credentials(h, mark.offset, &mut t, em);
        }
        let body = empty_body(&framing, h);
        let form = crate::model::http::target_form(&method, &target);
        let kind = MethodKind::of(&method);
        let (m, m64) = message::wire_string(method);
        let (tg, tg64) = message::wire_string(target);
        t.rec_mut().request = Some(RequestRecord {
            method: m,
            method_b64: m64,
            target: tg,
            target_b64: tg64,
            target_form: form,
            proxy_request: form == "absolute" || kind == MethodKind::Connect,
            version: version.text(),
            scheme: None,
            authority: None,
            headers: message::header_records(h),
            body,
            at: self.start(0, mark, h),
        });
        t.method = Some(kind);
        t.http09 = version == head::Version::HTTP09;
        t.rec_mut().timing.request_start = Some(mark.ts);
        for (code, msg) in f {
            em.finding(Dir::ClientToServer, mark.offset, code, msg, Some(&mut t));
        }
        let body_off = mark.offset + h.len as u64;
        self.pending.push_back(t);
        self.begin_body(0, framing, h, body_off, after_gap, em);
    }

    pub(super) fn response_head(
        &mut self,
        h: &mut Head,
        mark: Mark,
        after_gap: bool,
        em: &mut Em<'_>,
    ) {
        em.sh.stats.responses += 1;
        // The reason moves into the record (nothing below reads it from the head).
        let (version, status, reason) = match &mut h.start {
            StartLine::Response {
                version,
                status,
                reason,
            } => (*version, *status, std::mem::take(reason)),
            StartLine::Request { version, .. } => (*version, 0, Vec::new()),
        };
        if !self.orphan_for_given_up(em) && self.resp_cursor >= self.pending.len() {
            // A response to a request the capture does not hold.
            let t = self.new_txn(em);
            self.pending.push_back(t);
            self.resp_cursor = self.pending.len() - 1;
            // Nothing (or nothing since a gap) from the client: the capture missed the request.
            // Bytes that were not a request: the server answered them.
            let started_late = em.ctx.midstream
                || after_gap
                || self.sides[0].after_gap
                || (!self.sides[0].confirmed
                    && self.sides[0].unreported.is_none()
                    && !self.client_spoke);
            let msg = if started_late {
                "response whose request is not in the capture (the capture started late or \
                 lost it in a gap)"
                    .to_string()
            } else {
                "response without a request: the server sent more responses than the client \
                 sent requests (RFC 9112 §9.3 pairs them in order)"
                    .to_string()
            };
            let code = if started_late {
                &codes::HTTP_RESPONSE_WITHOUT_REQUEST_CAPTURED
            } else {
                &codes::HTTP_RESPONSE_WITHOUT_REQUEST
            };
            if let Some(t) = self.pending.get_mut(self.resp_cursor) {
                t.request_done = true;
                em.finding(Dir::ServerToClient, mark.offset, code, msg, Some(t));
            }
        }
        let cursor = self.resp_cursor;
        let method = self.pending.get(cursor).and_then(|t| t.method);
        let mut f: Vec<HeadFinding> = Vec::new();
        message::head_findings(h, false, &mut f);
        let framing = message::response_framing(h, method.map(MethodKind::bytes), &mut f);
        let (rs, rs64) = message::wire_string(reason);
        let Some(t) = self.pending.get_mut(cursor) else {
            return;
        };
        for (code, msg) in f {
            em.finding(Dir::ServerToClient, mark.offset, code, msg, Some(t));
        }
        let at = MessageStart {
            packet: mark.packet,
            stream_offset: mark.offset,
            head_bytes: h.len as u64,
        };
        if (100..200).contains(&status) && status != 101 {
            em.sh.stats.interim_responses += 1;
            t.rec_mut().interim.push(InterimRecord {
                status,
                reason: rs,
                headers: message::header_records(h),
                ts: mark.ts,
                at,
            });
            // The final response follows; `response_start` is its first byte.
            return;
        }
        if t.rec().timing.response_start.is_none() {
            t.rec_mut().timing.response_start = Some(mark.ts);
        }
        let status_raw = h.issues.iter().find_map(|i| match i {
            head::HeadIssue::BadStatus { raw } => Some(String::from_utf8_lossy(raw).into_owned()),
            _ => None,
        });
        t.rec_mut().response = Some(ResponseRecord {
            version: version.text(),
            status,
            status_raw,
            reason: rs,
            reason_b64: rs64,
            headers: message::header_records(h),
            body: empty_body(&framing, h),
            at,
        });
        // Does the connection switch protocols here?
        let body_off = mark.offset + h.len as u64;
        if let Some(protocol) = switch_asked(t, h, status, mark.offset, em) {
            self.switch_to(cursor, protocol, mark.ts, body_off, em);
            return;
        }
        self.begin_body(1, framing, h, body_off, after_gap, em);
        if status == 206
            && let Phase::Body(run) = &mut self.sides[1].phase
            && let Some(ct) = h.value(Known::ContentType)
        {
            run.content.byteranges = MultipartScanner::for_content_type(ct).map(Box::new);
        }
    }

    pub(super) fn response_09(&mut self, mark: Mark, em: &mut Em<'_>) {
        em.sh.stats.responses += 1;
        self.orphan_for_given_up(em);
        let Some(t) = self.pending.get_mut(self.resp_cursor) else {
            return;
        };
        t.rec_mut().timing.response_start = Some(mark.ts);
        let framing = Framing::Close;
        t.rec_mut().response = Some(ResponseRecord {
            version: head::Version::HTTP09.text(),
            status: 0,
            status_raw: None,
            reason: String::new(),
            reason_b64: None,
            headers: Default::default(),
            body: BodyRecord {
                framing: message::framing_kind(&framing),
                ..BodyRecord::empty()
            },
            at: MessageStart {
                packet: mark.packet,
                stream_offset: mark.offset,
                head_bytes: 0,
            },
        });
        self.sides[1].phase = Phase::Body(Box::new(BodyRun::until_close(&em.sh.cfg)));
    }

    fn credentials(&mut self, h: &Head, offset: u64, t: &mut Txn, em: &mut Em<'_>) {
        for (known, field, name) in [
            (Known::Authorization, "authorization", "Authorization"),
            (
                Known::ProxyAuthorization,
                "proxy-authorization",
                "Proxy-Authorization",
            ),
        ] {
            let Some(v) = h.value(known) else { continue };
            let scheme = v
                .split(|&c| c == b' ')
                .next()
                .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
                .unwrap_or_default();
            if scheme != "basic" && scheme != "digest" && scheme != "bearer" {
                if !scheme.is_empty() && scheme != "negotiate" && scheme != "ntlm" {
                    continue;
                }
                if scheme.is_empty() {
                    continue;
                }
            }
            let key = (em.ctx.client.ip, field, scheme.clone());
            let once = em.sh.defer_once.then(|| key.clone());
            if once.is_none() && em.sh.creds_seen.contains(&key) {
                let code = codes::HTTP_CLEARTEXT_CREDENTIALS.name;
                if !t.rec().findings.contains(&code) {
                    t.rec_mut().findings.push(code);
                }
                continue;
            }
            if once.is_none() && em.sh.creds_seen.len() < MAX_CREDS_SEEN {
                em.sh.creds_seen.insert(key);
            }
            let how = if scheme == "basic" {
                "the password is readable by anyone on the path (base64 is not encryption)"
            } else if scheme == "bearer" {
                "the token can be replayed by anyone on the path"
            } else {
                "the exchange can be replayed or attacked offline by anyone on the path"
            };
            em.finding_once(
                Dir::ClientToServer,
                offset,
                &codes::HTTP_CLEARTEXT_CREDENTIALS,
                format!(
                    "{name}: {} credentials sent over cleartext HTTP from {}; {how}. Use \
                     TLS (reported once per client and scheme; the value is masked in every \
                     output)",
                    scheme_name(&scheme),
                    em.ctx.client.ip
                ),
                Some(t),
                once,
            );
        }
    }
}

fn scheme_name(s: &str) -> &str {
    match s {
        "basic" => "Basic",
        "digest" => "Digest",
        "bearer" => "Bearer",
        "negotiate" => "Negotiate",
        "ntlm" => "NTLM",
        other => other,
    }
}
