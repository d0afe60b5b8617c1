//! The small lexical pieces of RFC 3261 §25 the screening needs: character classes, a
//! byte cursor, quoted strings, parameter lists, comma-separated lists.

/// Why a value is malformed, in a few words (becomes the `Warning` text of a 400).
pub(crate) type Fault = &'static str;

/// `token` characters (RFC 3261 §25.1).
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Characters a URI may hold unescaped (RFC 3261 §25.1 and RFC 3986, generously: any
/// scheme's reserved and unreserved characters).
pub(crate) fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()%;/?:@&=+$,[]#".contains(&b)
}

/// `generic-param`s after a value: name and value (unquoted as sent).
pub(crate) type Params = Vec<(String, Option<String>)>;

/// A read position in one header value.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// How many octets were consumed.
    pub fn position(&self) -> usize {
        self.at
    }

    pub fn is_done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    /// Consumes `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        if next {
            self.at += 1;
        }
        next
    }

    /// Skips spaces and tabs (folding is already undone); says how many.
    pub fn skip_ws(&mut self) -> usize {
        self.take_while(|b| b == b' ' || b == b'\t').len()
    }

    /// Consumes the longest run of bytes matching `keep`.
    pub fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let start = self.at;
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
        self.text(start, self.at)
    }

    /// Consumes a `quoted-string` (the cursor is on its opening quote).
    pub fn quoted_string(&mut self) -> Result<&'a str, Fault> {
        let start = self.at;
        if !self.eat(b'"') {
            return Err("a quoted string does not start with a quote");
        }
        loop {
            match self.peek() {
                None => return Err("a quoted string is not terminated"),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(self.text(start, self.at));
                }
                // quoted-pair: the next octet is taken as is, even a quote.
                Some(b'\\') => {
                    self.at += 1;
                    if self.peek().is_none() {
                        return Err("a quoted string is not terminated");
                    }
                    self.at += 1;
                }
                Some(_) => self.at += 1,
            }
        }
    }

    /// `*( SEMI generic-param )` up to the end of the value.
    pub fn params(&mut self) -> Result<Params, Fault> {
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            if self.is_done() {
                return Ok(params);
            }
            if !self.eat(b';') {
                return Err("unexpected text after a value");
            }
            self.skip_ws();
            let name = self.take_while(is_token_char);
            if name.is_empty() {
                return Err("an empty parameter");
            }
            self.skip_ws();
            let value = if self.eat(b'=') {
                self.skip_ws();
                let value = if self.peek() == Some(b'"') {
                    self.quoted_string()?
                } else {
                    self.take_while(|b| is_token_char(b) || b"[]:".contains(&b))
                };
                if value.is_empty() {
                    return Err("a parameter has an empty value");
                }
                Some(value.to_owned())
            } else {
                None
            };
            params.push((name.to_owned(), value));
        }
    }

    /// The source text between two positions (always on character boundaries here, since
    /// the cursor only stops after ASCII bytes or at the end; lossy otherwise).
    fn text(&self, start: usize, end: usize) -> &'a str {
        self.bytes
            .get(start..end)
            .and_then(|slice| std::str::from_utf8(slice).ok())
            .unwrap_or_default()
    }
}

/// Parameters written back without the optional LWS around `;` and `=` (RFC 3261 §7.3.1
/// makes it insignificant; rsipstack 0.7.14 keeps it and then misses `tag = x`).
pub(crate) fn canonical_params(params: &Params) -> String {
    params
        .iter()
        .map(|(name, value)| match value {
            Some(value) => format!(";{name}={value}"),
            None => format!(";{name}"),
        })
        .collect()
}

/// Splits a header value at commas outside quoted strings and `<…>`.
pub(crate) fn split_commas(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut escaped, mut angle, mut start) = (false, false, false, 0);
    for (i, b) in value.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => {
                parts.push(value.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value.get(start..).unwrap_or_default());
    parts
}

/// The value of parameter `name` (case-insensitive), if present.
pub(crate) fn param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}
