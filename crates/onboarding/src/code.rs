//! Authentication codes: `"1" TOKEN BASE32(server) CHECK`, grouped by four
//! (docs/provisioning.md, section 2; reference: tests/lab/idp/lib/codes.js).

use crate::base32;
use crate::deployment::{Deployment, TOKEN_SYMBOLS, Token, server_url};
use crate::error::{Invalid, OnboardingError, Result};

/// The code format version, the first symbol.
const CODE_VERSION: char = '1';
/// The longest code, in symbols.
const MAX_SYMBOLS: usize = 512;
/// The longest typed input considered (separators included).
const MAX_INPUT: usize = 2048;

/// A decoded authentication code: a server and a 16-symbol one-time token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// `host` or `host:port`, lower-case ASCII.
    pub server: String,
    /// The one-time token.
    pub token: Token,
}

impl AuthCode {
    /// Decodes what a person typed or pasted; tolerant of case, spaces, hyphens, `O`/`0`,
    /// `I`/`L`/`1`; a wrong check symbol is `code_checksum` ("check the code").
    pub fn parse(input: &str) -> Result<Self> {
        let malformed = |why: &str| Err(OnboardingError::invalid(Invalid::CodeMalformed, why));
        if input.len() > MAX_INPUT {
            return malformed("too long");
        }
        let symbols = base32::normalize(input);
        if !symbols.is_ascii() {
            return malformed("a code has only letters and digits");
        }
        if symbols.len() < 1 + TOKEN_SYMBOLS + 2 + 1 || symbols.len() > MAX_SYMBOLS {
            return malformed("wrong length");
        }
        let (payload, check) = symbols.split_at(symbols.len() - 1);
        let Some(expected) = base32::check_symbol(payload) else {
            return malformed("unexpected symbol");
        };
        if !check.starts_with(expected) {
            return Err(OnboardingError::invalid(
                Invalid::CodeChecksum,
                "check the code",
            ));
        }
        if !payload.starts_with(CODE_VERSION) {
            return Err(OnboardingError::invalid(
                Invalid::CodeUnsupportedVersion,
                "a newer kind of code; update Sidetone",
            ));
        }
        let token = &payload[1..=TOKEN_SYMBOLS];
        let Some(bytes) = base32::decode(&payload[1 + TOKEN_SYMBOLS..]) else {
            return malformed("bad host encoding");
        };
        let Ok(server) = String::from_utf8(bytes) else {
            return malformed("host is not UTF-8");
        };
        server_url(&server, Invalid::CodeMalformed)?;
        let token = Token::parse(token)
            .map_err(|_| OnboardingError::invalid(Invalid::CodeMalformed, "bad token"))?;
        Ok(Self { server, token })
    }

    /// The code for `server` + a 16-symbol `token`, grouped by four with `-`.
    pub fn encode(server: &str, token: &Token) -> Result<String> {
        let server = server.to_ascii_lowercase();
        server_url(&server, Invalid::CodeMalformed)?;
        if token.expose().len() != TOKEN_SYMBOLS {
            return Err(OnboardingError::invalid(
                Invalid::CodeMalformed,
                "codes carry 16-symbol tokens only",
            ));
        }
        let payload = format!(
            "{CODE_VERSION}{}{}",
            token.expose(),
            base32::encode(server.as_bytes())
        );
        let Some(check) = base32::check_symbol(&payload) else {
            return Err(OnboardingError::invalid(
                Invalid::CodeMalformed,
                "bad symbol",
            ));
        };
        let full: Vec<char> = payload.chars().chain([check]).collect();
        Ok(full
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-"))
    }

    /// The same as `sidetone://provision?server=SERVER&token=TOKEN`.
    pub fn deployment(&self) -> Result<Deployment> {
        Ok(Deployment {
            provisioning_url: server_url(&self.server, Invalid::CodeMalformed)?,
            token: Some(self.token.clone()),
            user: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from docs/provisioning.md, produced by tests/lab/idp/lib/codes.js.
    const VECTORS: &[(&str, &str)] = &[
        (
            "127.0.0.1:8443",
            "17Q2-M0D4-K9VX-R1H8-A64S-3EBH-G5RR-2WC9-T70T-38CR-Q",
        ),
        (
            "pbx.example.com",
            "17Q2-M0D4-K9VX-R1H8-AE1H-7GBK-5F1G-PTW3-CCMQ-66VV-D*",
        ),
    ];

    #[test]
    fn doc_vectors_round_trip() {
        let token = Token::parse("7Q2M0D4K9VXR1H8A").unwrap();
        for (server, code) in VECTORS {
            assert_eq!(AuthCode::encode(server, &token).unwrap(), *code);
            let parsed = AuthCode::parse(code).unwrap();
            assert_eq!(parsed.server, *server);
            assert_eq!(parsed.token, token);
        }
    }

    #[test]
    fn tolerant_of_typing() {
        let sloppy = " 17q2 m0d4-k9vx-r1h8-a64s-3ebh-g5rr-2wc9-t7ot-38cr-q\n";
        assert_eq!(AuthCode::parse(sloppy).unwrap().server, "127.0.0.1:8443");
    }

    #[test]
    fn every_single_symbol_typo_and_adjacent_swap_is_caught() {
        let code: Vec<char> = base32::normalize(VECTORS[0].1).chars().collect();
        for i in 0..code.len() {
            for &s in base32::ALPHABET {
                let mut typo = code.clone();
                if typo[i] == char::from(s) {
                    continue;
                }
                typo[i] = char::from(s);
                let text: String = typo.iter().collect();
                assert!(AuthCode::parse(&text).is_err(), "{text}");
            }
            if i + 1 < code.len() && code[i] != code[i + 1] {
                let mut swap = code.clone();
                swap.swap(i, i + 1);
                let text: String = swap.iter().collect();
                assert!(AuthCode::parse(&text).is_err(), "{text}");
            }
        }
    }
}
