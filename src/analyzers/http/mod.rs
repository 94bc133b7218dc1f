//! HTTP/1.x analysis: message bodies (transfer framing, then content codings).
pub mod body;
pub mod content;
