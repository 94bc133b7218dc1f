//! Text helpers for the views: widths, wrapping, highlighting, numbers, body previews.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::base::Timestamp;
use crate::base::sanitize::terminal_safe_str;

pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// A line's text without styles.
pub fn plain(l: &Line<'_>) -> String {
    l.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Cuts `s` to at most `w` columns, with `…` when cut.
pub fn fit(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// `s` cut to `w` columns and padded with spaces to exactly `w` (display width, not chars).
pub fn pad(s: &str, w: usize) -> String {
    let mut out = fit(s, w);
    let n = width(&out);
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(n)));
    out
}

/// Splits lines wider than `w` columns into several (styles kept), at a space when there is
/// one in the second half of the line, else anywhere.
pub fn wrap(lines: Vec<Line<'static>>, w: u16) -> Vec<Line<'static>> {
    let w = usize::from(w.max(1));
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= w {
            out.push(line);
            continue;
        }
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
            .collect();
        let mut start = 0;
        while start < chars.len() {
            let mut used = 0;
            let mut end = start;
            let mut last_space = None;
            while end < chars.len() {
                let cw = chars[end].0.width().unwrap_or(0);
                if used + cw > w {
                    break;
                }
                if chars[end].0 == ' ' {
                    last_space = Some(end);
                }
                used += cw;
                end += 1;
            }
            if end == start {
                end = start + 1;
            } else if end < chars.len()
                && let Some(sp) = last_space
                && sp + 1 > start + w / 2
            {
                end = sp + 1;
            }
            out.push(Line::from(spans_of(&chars[start..end])).style(line.style));
            start = end;
        }
    }
    out
}

fn spans_of(chars: &[(char, Style)]) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut buf = String::new();
    let mut style = None;
    for (c, st) in chars {
        if style.is_some_and(|s| s != *st) {
            spans.push(Span::styled(
                std::mem::take(&mut buf),
                style.unwrap_or_default(),
            ));
        }
        style = Some(*st);
        buf.push(*c);
    }
    if !buf.is_empty() {
        spans.push(Span::styled(buf, style.unwrap_or_default()));
    }
    spans
}

/// Marks every occurrence of `needle` (lowercase) in the line; the current hit's whole line is
/// reversed too.
pub fn highlight(l: Line<'static>, needle: &str, hit: Style, current: bool) -> Line<'static> {
    let text = plain(&l);
    let lower = text.to_lowercase();
    if needle.is_empty() || !lower.contains(needle) || lower.len() != text.len() {
        return l;
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(p) = lower[at..].find(needle) {
        let s = at + p;
        if s > at {
            spans.push(Span::raw(text[at..s].to_string()));
        }
        spans.push(Span::styled(text[s..s + needle.len()].to_string(), hit));
        at = s + needle.len();
    }
    if at < text.len() {
        spans.push(Span::raw(text[at..].to_string()));
    }
    let line = Line::from(spans).style(l.style);
    if current {
        line.style(l.style.add_modifier(ratatui::style::Modifier::REVERSED))
    } else {
        line
    }
}

/// `75B`, `1.2k`, `34.5M`.
pub fn size(n: u64) -> String {
    if n < 1000 {
        format!("{n}B")
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else {
        format!("{:.2}G", n as f64 / 1e9)
    }
}

/// `950`, `12.3k`, `1.2M`.
pub fn count(n: u64) -> String {
    if n < 10_000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else {
        format!("{:.1}M", n as f64 / 1e6)
    }
}

/// Seconds as `350µs`, `1.2ms`, `2.31s`.
pub fn dur(s: f64) -> String {
    let a = s.abs();
    let sign = if s < 0.0 { "-" } else { "" };
    if a < 1e-3 {
        format!("{sign}{:.0}µs", a * 1e6)
    } else if a < 1.0 {
        format!("{sign}{:.1}ms", a * 1e3)
    } else if a < 100.0 {
        format!("{sign}{:.2}s", a)
    } else {
        format!("{sign}{:.0}s", a)
    }
}

/// `14:14:34.827` (UTC, from packet time).
pub fn hms(ts: Timestamp) -> String {
    let secs = ts.0.div_euclid(1_000_000_000);
    let ms = ts.0.rem_euclid(1_000_000_000) / 1_000_000;
    let sod = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// `offset  hex bytes  ascii` lines, 16 bytes each.
pub fn hexdump(b: &[u8], max_lines: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (i, chunk) in b.chunks(16).enumerate().take(max_lines) {
        let mut hex = String::new();
        for (j, x) in chunk.iter().enumerate() {
            if j == 8 {
                hex.push(' ');
            }
            hex.push_str(&format!("{x:02x} "));
        }
        let ascii: String = chunk
            .iter()
            .map(|c| {
                if c.is_ascii_graphic() || *c == b' ' {
                    *c as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push(format!("{:08x}  {hex:<49} {ascii}", i * 16));
    }
    if b.len() > max_lines * 16 {
        out.push(format!("… {} more bytes", b.len() - max_lines * 16));
    }
    out
}

/// A body or message payload for display: pretty JSON when it is JSON, else the text, one
/// escaped line per line. `None` when the bytes are not text.
pub fn text_lines(s: &str, json_hint: bool) -> Vec<String> {
    let t = s.trim_start();
    if (json_hint || t.starts_with('{') || t.starts_with('['))
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(s)
        && let Ok(p) = serde_json::to_string_pretty(&v)
    {
        return p.lines().map(terminal_safe_str).collect();
    }
    s.split('\n')
        .map(|l| terminal_safe_str(l.strip_suffix('\r').unwrap_or(l)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_fits() {
        let l = Line::from(vec![Span::raw("abcdef"), Span::raw("ghij")]);
        let w = wrap(vec![l], 4);
        let t: Vec<String> = w.iter().map(plain).collect();
        assert_eq!(t, ["abcd", "efgh", "ij"]);
        let l = Line::from("the upgrade was answered 505");
        let t: Vec<String> = wrap(vec![l], 12).iter().map(plain).collect();
        assert_eq!(t, ["the upgrade ", "was answered", " 505"]);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn numbers() {
        assert_eq!(size(75), "75B");
        assert_eq!(size(1234), "1.2k");
        assert_eq!(dur(0.002238), "2.2ms");
        assert_eq!(dur(0.000_35), "350µs");
        assert_eq!(hms(Timestamp(1_796_134_474_826_325_000)), "14:14:34.826");
    }

    #[test]
    fn json_is_pretty_and_text_is_escaped() {
        assert_eq!(text_lines("{\"a\":1}", false), ["{", "  \"a\": 1", "}"]);
        assert_eq!(text_lines("a\x1b[2J\r\nb", false), ["a\\x1b[2J", "b"]);
        let h = hexdump(b"\x00\x01AB", 4);
        assert!(h[0].starts_with("00000000  00 01 41 42"), "{h:?}");
        assert!(h[0].ends_with("..AB"), "{h:?}");
    }
}
