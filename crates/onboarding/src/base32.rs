//! Crockford base32 as docs/provisioning.md uses it (tokens and authentication codes).
//!
//! Mirrors tests/lab/idp/lib/codes.js, the reference implementation.

/// The 32 symbols, value order.
pub(crate) const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Check symbols: the alphabet plus values 32–36.
pub(crate) const CHECK_ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// The value of one canonical symbol, or `None`.
pub(crate) fn value(symbol: u8) -> Option<u8> {
    ALPHABET
        .iter()
        .position(|&s| s == symbol)
        .and_then(|p| u8::try_from(p).ok())
}

/// The canonical form of typed text: upper case, whitespace and hyphens removed, `O`→`0`,
/// `I`/`L`→`1`. Non-ASCII characters are kept (and later rejected as symbols).
pub(crate) fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// Bytes as symbols, most significant bit first, the last symbol zero-padded.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Canonical symbols back to bytes; `None` on a foreign symbol or non-zero padding bits.
pub(crate) fn decode(symbols: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(symbols.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for symbol in symbols.bytes() {
        acc = (acc << 5) | u32::from(value(symbol)?);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

/// Crockford's check symbol of canonical symbols (their value modulo 37); `None` on a
/// foreign symbol.
pub(crate) fn check_symbol(symbols: &str) -> Option<char> {
    let mut rest: u32 = 0;
    for symbol in symbols.bytes() {
        rest = (rest * 32 + u32::from(value(symbol)?)) % 37;
    }
    Some(char::from(CHECK_ALPHABET[rest as usize]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }
    }

    #[test]
    fn rejects_padding_bits_and_foreign_symbols() {
        assert_eq!(decode("01"), None); // 10 bits: the last 2 padding bits are 01
        assert_eq!(decode("0U"), None);
        assert_eq!(check_symbol("0I"), None);
    }

    #[test]
    fn normalizes_like_the_reference() {
        assert_eq!(normalize(" 7q2m-o d4k\tIL\n"), "7Q2M0D4K11");
    }
}
