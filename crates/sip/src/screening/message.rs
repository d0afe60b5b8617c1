//! Splitting a datagram into start line, header fields and body length (RFC 3261 §7),
//! leniently: a framing fault is recorded, not fatal, so a rejection can still echo the
//! headers that were there.

/// One header field, unfolded.
pub(crate) struct HeaderField {
    /// The name as sent (`v`, `Via`, `VIA`), trimmed.
    pub name: String,
    /// The full lower-case name, compact forms expanded (`v` becomes `via`).
    pub canonical: String,
    /// The value with folded lines joined by one space, trimmed (RFC 3261 §7.3.1).
    pub value: String,
}

/// A datagram split into its parts, with the first framing fault found.
pub(crate) struct RawMessage {
    pub start_line: String,
    pub headers: Vec<HeaderField>,
    /// Where the body starts, and its length: the octets after the empty line.
    pub body_start: usize,
    pub body_len: usize,
    /// Why the framing itself is broken, if it is.
    pub framing_fault: Option<&'static str>,
}

impl RawMessage {
    /// Splits `bytes` (which start at the start line).
    pub fn split(bytes: &[u8]) -> Self {
        let mut framing_fault = None;
        let (head, body_start) = match find(bytes, b"\r\n\r\n") {
            Some(end) => (bytes.get(..end).unwrap_or_default(), end + 4),
            None => {
                framing_fault = Some("no empty line ends the header section");
                (bytes, bytes.len())
            }
        };
        let body_len = bytes.len().saturating_sub(body_start);
        let text = match std::str::from_utf8(head) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => {
                framing_fault.get_or_insert("the header section is not UTF-8");
                String::from_utf8_lossy(head)
            }
        };
        let mut lines = text.split("\r\n");
        let start_line = lines.next().unwrap_or_default().to_owned();
        if start_line.contains(['\r', '\n']) {
            framing_fault.get_or_insert("a line ends in a bare CR or LF");
        }
        let mut headers: Vec<HeaderField> = Vec::new();
        for line in lines {
            if line.contains(['\r', '\n']) {
                framing_fault.get_or_insert("a line ends in a bare CR or LF");
            }
            if line.starts_with([' ', '\t']) {
                match headers.last_mut() {
                    Some(last) => {
                        last.value.push(' ');
                        last.value.push_str(line.trim());
                        last.value = last.value.trim().to_owned();
                    }
                    None => {
                        framing_fault.get_or_insert("a folded line has no header to continue");
                    }
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                framing_fault.get_or_insert("a header line has no colon");
                continue;
            };
            let name = name.trim_end_matches([' ', '\t']);
            if name.is_empty() || !name.bytes().all(super::scan::is_token_char) {
                framing_fault.get_or_insert("a header name is not a token");
            }
            headers.push(HeaderField {
                name: name.to_owned(),
                canonical: canonical_name(name),
                value: value.trim().to_owned(),
            });
        }
        Self {
            start_line,
            headers,
            body_start,
            body_len,
            framing_fault,
        }
    }

    /// The message again with `rewrites` (header index, new value) applied: each header on
    /// one line, the body as it came. Never longer than `original` (rewrites only drop
    /// optional whitespace, and unfolding only shortens).
    pub fn rewritten(&self, original: &[u8], rewrites: &[(usize, String)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(original.len());
        out.extend_from_slice(self.start_line.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (i, header) in self.headers.iter().enumerate() {
            let value = rewrites
                .iter()
                .find(|(at, _)| *at == i)
                .map_or(header.value.as_str(), |(_, value)| value.as_str());
            out.extend_from_slice(header.name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(original.get(self.body_start..).unwrap_or_default());
        out
    }

    /// The values of every header field called `canonical` (lower-case full name).
    pub fn values<'a>(&'a self, canonical: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.canonical == canonical)
            .map(|h| h.value.as_str())
    }
}

/// RFC 3261 §7.3.3 compact forms, expanded; everything lower-case.
fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let full = match lower.as_str() {
        "i" => "call-id",
        "m" => "contact",
        "e" => "content-encoding",
        "l" => "content-length",
        "c" => "content-type",
        "f" => "from",
        "s" => "subject",
        "k" => "supported",
        "t" => "to",
        "v" => "via",
        _ => return lower,
    };
    full.to_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
