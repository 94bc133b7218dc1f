//! The chunked framing state machine (RFC 9112 §7.1), one byte at a time, so that an error
//! names the offending byte and any split of the input gives the same result.

use super::{BodyDecoder, BodyError, ChunkExtension, MAX_EXTENSIONS, NoteKind, Phase};
use crate::model::syntax::{is_tchar, trim_ows};

impl BodyDecoder {
    /// One byte of chunked framing at body offset `self.wire`.
    pub(super) fn step(&mut self, b: u8) -> Result<(), BodyError> {
        let at = self.wire;
        if matches!(
            self.phase,
            Phase::SizeDigits | Phase::SizeWs | Phase::SizeExt
        ) && b != b'\r'
            && b != b'\n'
        {
            self.line_len += 1;
            if self.line_len > self.limits.max_chunk_line {
                return Err(BodyError::ChunkLineTooLong {
                    offset: at,
                    limit: self.limits.max_chunk_line,
                });
            }
        }
        if matches!(
            self.phase,
            Phase::TrailerStart
                | Phase::TrailerName
                | Phase::TrailerValue
                | Phase::TrailerCr { .. }
        ) {
            self.trailer_bytes += 1;
            if self.trailer_bytes > self.limits.max_trailer_bytes {
                return Err(BodyError::TrailerTooLarge {
                    offset: at,
                    limit: self.limits.max_trailer_bytes,
                });
            }
        }
        match self.phase {
            Phase::SizeDigits => self.size_digit(b, at)?,
            Phase::SizeWs => match b {
                b' ' | b'\t' => {}
                b';' => self.begin_ext(at),
                b'\r' => self.phase = Phase::SizeCr,
                b'\n' => {
                    self.note(NoteKind::BareLf, at);
                    self.end_size_line();
                }
                _ => {
                    return Err(BodyError::InvalidChunkSize {
                        offset: at,
                        found: b,
                    });
                }
            },
            Phase::SizeExt => match b {
                b'\r' => self.phase = Phase::SizeCr,
                b'\n' => {
                    self.note(NoteKind::BareLf, at);
                    self.end_size_line();
                }
                _ => {
                    if self.extensions.len() < MAX_EXTENSIONS {
                        self.ext.push(b);
                    }
                }
            },
            Phase::SizeCr => {
                if b != b'\n' {
                    return Err(BodyError::BareCr {
                        offset: at,
                        found: b,
                    });
                }
                self.end_size_line();
            }
            Phase::DataCr => match b {
                b'\r' => self.phase = Phase::DataLf,
                b'\n' => {
                    self.note(NoteKind::BareLf, at);
                    self.start_size_line();
                }
                _ => {
                    return Err(BodyError::MissingChunkCrlf {
                        offset: at,
                        found: b,
                    });
                }
            },
            Phase::DataLf => {
                if b != b'\n' {
                    return Err(BodyError::MissingChunkCrlf {
                        offset: at,
                        found: b,
                    });
                }
                self.start_size_line();
            }
            Phase::TrailerStart => match b {
                b'\r' => self.phase = Phase::TrailerCr { end: true },
                b'\n' => {
                    self.note(NoteKind::BareLf, at);
                    self.complete();
                }
                _ if is_tchar(b) => {
                    if self.trailers.len() >= self.limits.max_trailers {
                        return Err(BodyError::TooManyTrailers {
                            offset: at,
                            limit: self.limits.max_trailers,
                        });
                    }
                    self.name.push(b);
                    self.phase = Phase::TrailerName;
                }
                _ => {
                    return Err(BodyError::InvalidTrailer {
                        offset: at,
                        found: b,
                    });
                }
            },
            Phase::TrailerName => match b {
                b':' => self.phase = Phase::TrailerValue,
                _ if is_tchar(b) => self.name.push(b),
                _ => {
                    return Err(BodyError::InvalidTrailer {
                        offset: at,
                        found: b,
                    });
                }
            },
            Phase::TrailerValue => match b {
                b'\r' => self.phase = Phase::TrailerCr { end: false },
                b'\n' => {
                    self.note(NoteKind::BareLf, at);
                    self.end_trailer_field();
                }
                _ => self.value.push(b),
            },
            Phase::TrailerCr { end } => {
                if b != b'\n' {
                    return Err(BodyError::BareCr {
                        offset: at,
                        found: b,
                    });
                }
                if end {
                    self.complete();
                } else {
                    self.end_trailer_field();
                }
            }
            // Payload phases are handled in `feed`; nothing is consumed when done.
            Phase::Length { .. } | Phase::Close | Phase::Data { .. } | Phase::Done => {}
        }
        Ok(())
    }

    fn size_digit(&mut self, b: u8, at: u64) -> Result<(), BodyError> {
        if let Some(d) = hex_value(b) {
            self.size = self
                .size
                .checked_mul(16)
                .and_then(|v| v.checked_add(u64::from(d)))
                .ok_or(BodyError::ChunkSizeOverflow { offset: at })?;
            self.digits += 1;
            return Ok(());
        }
        if self.digits == 0 {
            return Err(BodyError::EmptyChunkSize {
                offset: at,
                found: b,
            });
        }
        match b {
            b' ' | b'\t' => {
                self.note(NoteKind::WhitespaceAfterSize, at);
                self.phase = Phase::SizeWs;
            }
            b';' => self.begin_ext(at),
            b'\r' => self.phase = Phase::SizeCr,
            b'\n' => {
                self.note(NoteKind::BareLf, at);
                self.end_size_line();
            }
            _ => {
                return Err(BodyError::InvalidChunkSize {
                    offset: at,
                    found: b,
                });
            }
        }
        Ok(())
    }

    fn begin_ext(&mut self, at: u64) {
        self.ext_seen = true;
        self.ext_start = at;
        if self.extensions.len() < MAX_EXTENSIONS {
            self.ext.push(b';');
        }
        self.phase = Phase::SizeExt;
    }

    fn start_size_line(&mut self) {
        self.size = 0;
        self.digits = 0;
        self.line_len = 0;
        self.ext_seen = false;
        self.ext.clear();
        self.phase = Phase::SizeDigits;
    }

    fn end_size_line(&mut self) {
        if self.ext_seen {
            self.extension_lines += 1;
            if self.extensions.len() < MAX_EXTENSIONS {
                self.extensions.push(ChunkExtension {
                    chunk: self.size_lines,
                    offset: self.ext_start,
                    raw: std::mem::take(&mut self.ext),
                });
            }
        }
        self.size_lines += 1;
        if self.size == 0 {
            self.phase = Phase::TrailerStart;
        } else {
            self.chunks += 1;
            self.phase = Phase::Data {
                remaining: self.size,
            };
        }
    }

    fn end_trailer_field(&mut self) {
        let name = std::mem::take(&mut self.name);
        let value = trim_ows(&self.value).to_vec();
        self.value.clear();
        self.trailers.push((name, value));
        self.phase = Phase::TrailerStart;
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
