//! Which proxy it is, and the fix in its own configuration language.

use super::Snap;

/// Products recognised from `Server`, `Via` and `Proxy-agent`.
const PRODUCTS: &[(&str, &str)] = &[
    ("nginx", "nginx"),
    ("openresty", "nginx"),
    ("apache", "apache"),
    ("httpd", "apache"),
    ("haproxy", "haproxy"),
    ("envoy", "envoy"),
    ("traefik", "traefik"),
    ("tinyproxy", "tinyproxy"),
    ("squid", "squid"),
    ("varnish", "varnish"),
    ("caddy", "caddy"),
];

fn find(text: &str) -> Option<&'static str> {
    let l = text.to_ascii_lowercase();
    PRODUCTS
        .iter()
        .find(|(k, _)| l.contains(k))
        .map(|(_, p)| *p)
}

/// The proxy's product and where that came from. `Via` and `Proxy-agent` speak for the proxy;
/// `Server` only when the proxy replaced the upstream's (or there is no upstream leg).
pub fn product(f: &Snap, b: Option<&Snap>) -> Option<(&'static str, String)> {
    let resp = f.resp.as_ref();
    let text = |h: Option<&crate::model::http::Headers>, n: &str| {
        h.and_then(|h| h.get(n))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    // A Via counts only where this proxy added it: not already on the other side of the hop
    // (in a chain, the first proxy's Via travels on through the second).
    let back_resp_via = b.and_then(|b| text(b.resp.as_ref(), "via"));
    let front_req_via = text(Some(&f.req), "via");
    let added =
        |v: Option<String>, before: &Option<String>| v.filter(|v| Some(v) != before.as_ref());
    for (where_, v) in [
        (
            "the response's Via",
            added(text(resp, "via"), &back_resp_via),
        ),
        (
            "the upstream request's Via",
            b.and_then(|b| added(text(Some(&b.req), "via"), &front_req_via)),
        ),
        ("the response's Proxy-agent", text(resp, "proxy-agent")),
    ] {
        if let Some(v) = v
            && let Some(p) = find(&v)
        {
            return Some((p, format!("{where_}: {v}")));
        }
    }
    if let Some(b) = b {
        let envoy = b.req.iter().any(|h| {
            String::from_utf8_lossy(h.name)
                .to_ascii_lowercase()
                .starts_with("x-envoy-")
        });
        if envoy {
            return Some(("envoy", "x-envoy-* headers on the upstream request".into()));
        }
    }
    let front_server = text(resp, "server");
    let back_server = b.and_then(|b| text(b.resp.as_ref(), "server"));
    if let Some(v) = &front_server
        && (b.is_none() || back_server.as_ref() != Some(v))
        && let Some(p) = find(v)
    {
        let by = if b.is_some() {
            " (set by the proxy)"
        } else {
            ""
        };
        return Some((p, format!("the response's Server{by}: {v}")));
    }
    if let Some(b) = b {
        // Header names lower-cased on the way (where the client used capitals) without
        // Envoy's headers: HAProxy's HTTP/1 behaviour.
        let capitals = |h: &crate::model::http::Headers| {
            h.iter().any(|x| x.name.iter().any(u8::is_ascii_uppercase))
        };
        let lowered = |from: &crate::model::http::Headers, to: &crate::model::http::Headers| {
            !to.is_empty() && capitals(from) && !capitals(to)
        };
        // (HTTP/2 names are lowercase by rule: no sign of anything there.)
        if !b.h2_request() && lowered(&f.req, &b.req) {
            return Some((
                "haproxy",
                "likely: every header name lower-cased on the upstream request (HAProxy's \
                 HTTP/1 behaviour; it adds no Via)"
                    .into(),
            ));
        }
        // nginx's defaults: HTTP/1.0 upstream with `Connection: close`.
        let close = b
            .req_text("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if b.version == "HTTP/1.0" && matches!(f.version.as_ref(), "HTTP/1.1" | "HTTP/2") && close {
            return Some((
                "nginx",
                "an HTTP/1.0 upstream request with Connection: close (nginx's proxy defaults)"
                    .into(),
            ));
        }
    }
    None
}

/// How to make the proxy forward a WebSocket (or other) upgrade.
pub fn upgrade_fix(product: Option<&str>) -> String {
    match product {
        Some("nginx") => "for nginx, in the location that proxies it: proxy_http_version 1.1; \
                          proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \
                          \"upgrade\";"
            .into(),
        Some("apache") => "for Apache httpd 2.4.47+, ProxyPass /path http://backend/path \
                           upgrade=websocket (or mod_proxy_wstunnel with ProxyPass /path \
                           ws://backend/path); a2enmod proxy_wstunnel if it is missing"
            .into(),
        Some("haproxy") => "HAProxy forwards WebSocket upgrades in mode http by default: look \
                            for rules that remove Upgrade/Connection (http-request del-header) \
                            or force HTTP/1.0, and set timeout tunnel so idle WebSockets are \
                            not cut"
            .into(),
        Some("envoy") => "for Envoy, enable the upgrade on the HTTP connection manager or the \
                          route: upgrade_configs: [{upgrade_type: websocket}]"
            .into(),
        Some("traefik") => "Traefik forwards WebSocket upgrades by default: check middlewares \
                            that rewrite headers (customRequestHeaders with Upgrade or \
                            Connection) and that the backend is reached over HTTP/1.1"
            .into(),
        Some("tinyproxy") => "tinyproxy strips Upgrade as a hop-by-hop header and cannot relay a \
                              WebSocket upgrade as a plain HTTP request: have the client tunnel \
                              through it with CONNECT (for ws:// and wss://), or put a proxy \
                              that supports upgrades in front"
            .into(),
        Some("squid") => "squid does not relay HTTP upgrades by default (squid 5+: \
                          http_upgrade_request_protocols websocket allow all); or tunnel with \
                          CONNECT"
            .into(),
        _ => "the proxy must speak HTTP/1.1 to the upstream and forward Upgrade with \
              Connection: upgrade (they are hop-by-hop, so it has to set them again on the \
              upstream request)"
            .into(),
    }
}

/// `proxy-authorization` → `Proxy-Authorization` (how configurations usually spell it).
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = true;
    for c in name.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '-';
    }
    out
}

/// How to make the proxy stop forwarding a hop-by-hop header.
pub fn strip_fix(product: Option<&str>, header: &str) -> String {
    let header = canonical(header);
    let header = header.as_str();
    match product {
        Some("nginx") => format!(
            "For nginx: remove any proxy_set_header {header} ... that passes it on, or clear it \
             with proxy_set_header {header} \"\";"
        ),
        Some("haproxy") => format!("For HAProxy: http-request del-header {header}"),
        Some("apache") => format!("For Apache httpd: RequestHeader unset {header}"),
        Some("envoy") => format!(
            "For Envoy: request_headers_to_remove: [\"{header}\"] on the route or virtual host"
        ),
        _ => format!("The proxy must not forward {header}: remove it from the upstream request"),
    }
}

/// How to make a proxy stop sending connection-specific fields in HTTP/2 (RFC 9113 §8.2.2),
/// in its upstream requests (`request`) or its responses to the client.
pub fn h2_strip_fix(product: Option<&str>, headers: &[&str], request: bool) -> String {
    let hs: Vec<String> = headers.iter().map(|h| canonical(h)).collect();
    let each = |f: &dyn Fn(&str) -> String| hs.iter().map(|h| f(h)).collect::<Vec<_>>().join("; ");
    match (product, request) {
        (Some("nginx"), true) => format!(
            "For nginx (whose HTTP/2 upstreams are grpc_pass): remove {} from the location",
            each(&|h| format!("grpc_set_header {h} ..."))
        ),
        (Some("nginx"), false) => format!(
            "For nginx: remove {} (and more_set_headers of them) from the server and location; \
             nginx's HTTP/2 module drops the upstream's own connection-specific fields",
            each(&|h| format!("add_header {h} ..."))
        ),
        (Some("haproxy"), true) => {
            format!(
                "For HAProxy: {}",
                each(&|h| format!("http-request del-header {h}"))
            )
        }
        (Some("haproxy"), false) => {
            format!(
                "For HAProxy: {}",
                each(&|h| format!("http-response del-header {h}"))
            )
        }
        (Some("apache"), true) => {
            format!(
                "For Apache httpd: {}",
                each(&|h| format!("RequestHeader unset {h}"))
            )
        }
        (Some("apache"), false) => {
            format!(
                "For Apache httpd: {}",
                each(&|h| format!("Header unset {h}"))
            )
        }
        (Some("envoy"), _) => format!(
            "For Envoy: {}_headers_to_remove: [{}] on the route or virtual host",
            if request { "request" } else { "response" },
            hs.iter()
                .map(|h| format!("\"{h}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!(
            "A proxy that translates to HTTP/2 must remove them: {}",
            hs.join(", ")
        ),
    }
}

/// What changes a status between the upstream (`back`) and the client (`front`).
pub fn status_fix(product: Option<&str>, back: Option<u16>, front: Option<u16>) -> String {
    match (back, front) {
        (_, None) => "The client refused the proxy's response: look for a malformed response \
                      (proxy.connection-field-in-http2) or the client's own log"
            .into(),
        (None, Some(_)) => match product {
            Some("nginx") => "The proxy answered by itself because the upstream did not: for \
                              nginx the error log says why (\"upstream prematurely closed\", \
                              \"upstream timed out\": proxy_read_timeout, proxy_connect_timeout; \
                              a reset HTTP/2 stream under grpc_pass)"
                .into(),
            _ => "The proxy answered by itself because the upstream did not (a timeout, a reset \
                  stream, a closed connection): its log says which"
                .into(),
        },
        (Some(b), Some(_)) => match product {
            Some("nginx") => format!(
                "For nginx: proxy_intercept_errors on with an error_page for {b} replaces the \
                 upstream's status (error_page {b} =CODE ...): remove the =CODE, the error_page, \
                 or set proxy_intercept_errors off"
            ),
            Some("haproxy") => format!(
                "For HAProxy: an http-response set-status, or an errorfile / http-error for \
                 {b}, replaces the upstream's status"
            ),
            Some("apache") => "For Apache httpd: ProxyErrorOverride On replaces upstream error \
                               statuses with local ErrorDocuments: set it Off (or list only the \
                               codes meant)"
                .into(),
            Some("envoy") => "For Envoy: local_reply_config mappers rewrite statuses, and retry \
                              or timeout policies turn upstream failures into 503/504"
                .into(),
            _ => "An error page or a rewrite rule on the proxy".into(),
        },
    }
}

/// Why a body's length changes across a proxy, and where to look.
pub fn body_fix(product: Option<&str>, request: bool, shorter: bool) -> String {
    match (product, request, shorter) {
        (Some("nginx"), false, false) => "For nginx: a sub_filter, ssi, addition or \
                                          image_filter in this location rewrites the body; turn \
                                          it off here if that is not meant"
            .into(),
        (Some("nginx"), false, true) => "For nginx: a body cut short is an upstream that \
                                         closed or timed out mid-body (proxy_read_timeout; \
                                         \"upstream prematurely closed\" in the error log), a \
                                         full temporary file (proxy_max_temp_file_size), or a \
                                         sub_filter that removes text"
            .into(),
        (Some("nginx"), true, _) => "For nginx: the request body it forwards is the one it \
                                     read (proxy_request_buffering on buffers it whole; off \
                                     streams it): a different length is a client_body_timeout \
                                     or a module that rewrites the body"
            .into(),
        _ => "A proxy that rewrites bodies (a content filter, an injected script) changes their \
              length; one that loses part of a body (a timeout or a closed connection mid-body) \
              shortens it: the proxy's log says which"
            .into(),
    }
}
