//! Syntax of the header values the stack relies on: addresses (From, To, Contact), Via,
//! CSeq and the Request-URI (RFC 3261 §20, §25).

use super::scan::{
    Cursor, Fault, Params, canonical_params, is_token_char, is_uri_char, split_commas,
};

/// A value that passed its check, and the same value written without optional LWS.
pub(crate) struct Checked {
    pub params: Params,
    pub canonical: String,
}

/// [`check_address_params`] plus the canonical text.
pub(crate) fn check_address(value: &str) -> Result<Checked, Fault> {
    let (head_len, params) = check_address_params(value)?;
    let head = value.get(..head_len).unwrap_or_default().trim();
    Ok(Checked {
        canonical: format!("{head}{}", canonical_params(&params)),
        params,
    })
}

/// `( name-addr / addr-spec ) *( SEMI param )` as in From, To and each Contact value:
/// the length of the part before the parameters, and the parameters.
fn check_address_params(value: &str) -> Result<(usize, Params), Fault> {
    let mut cursor = Cursor::new(value);
    cursor.skip_ws();
    if cursor.peek() == Some(b'"') {
        cursor.quoted_string()?;
        cursor.skip_ws();
        if !cursor.eat(b'<') {
            return Err("a quoted display name is not followed by <");
        }
        angle_address_rest(&mut cursor)?;
        return Ok((cursor.position(), cursor.params()?));
    }
    // Only before the first `;`: a `<` later sits in a header parameter's quoted value.
    let head = value.split(';').next().unwrap_or_default();
    match head.find('<') {
        Some(lt) => {
            // An unquoted display name is `*(token LWS)`; a comma, quote or other ASCII
            // separator means the sender forgot the quotes (RFC 4475 §3.1.2.15). Non-ASCII
            // letters are let through: servers send `Jörg <sip:…>`, and dropping their
            // responses would break registration over a nicety.
            let display = value.get(..lt).unwrap_or_default();
            if !display
                .bytes()
                .all(|b| is_token_char(b) || b == b' ' || b == b'\t' || !b.is_ascii())
            {
                return Err("a display name with separators is not quoted");
            }
            let mut cursor = Cursor::new(value.get(lt + 1..).unwrap_or_default());
            angle_address_rest(&mut cursor)?;
            Ok((lt + 1 + cursor.position(), cursor.params()?))
        }
        None => {
            // addr-spec form: parameters after `;` belong to the header, and a URI with
            // `?`, `,` or `;` of its own must be in <> (RFC 3261 §20).
            let uri = cursor.take_while(|b| b != b';').trim();
            if uri.contains(['?', ',']) {
                return Err("a URI with headers or commas is not enclosed in <>");
            }
            check_uri(uri)?;
            Ok((cursor.position(), cursor.params()?))
        }
    }
}

fn angle_address_rest(cursor: &mut Cursor<'_>) -> Result<(), Fault> {
    let uri = cursor.take_while(|b| b != b'>');
    if !cursor.eat(b'>') {
        return Err("a < has no matching >");
    }
    if uri.contains([' ', '\t']) {
        return Err("an address inside <> contains spaces");
    }
    check_uri(uri)
}

/// `scheme ":" …` with only URI characters (no spaces, quotes, angle brackets).
pub(crate) fn check_uri(uri: &str) -> Result<(), Fault> {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err("a URI has no scheme");
    };
    let mut scheme_bytes = scheme.bytes();
    let scheme_ok = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return Err("a URI has no scheme");
    }
    if rest.is_empty() || !rest.bytes().all(is_uri_char) {
        return Err("a URI contains characters URIs cannot hold");
    }
    Ok(())
}

/// True for `sip:`/`sips:` URIs whose host part carries `?headers`, which a Request-URI
/// must not (RFC 3261 §19.1.1, RFC 4475 §3.1.2.11). The user part may hold `?` itself.
pub(crate) fn sip_uri_has_headers(uri: &str) -> bool {
    let host_part = match uri.rsplit_once('@') {
        Some((_, host)) => host,
        None => uri.split_once(':').map(|(_, rest)| rest).unwrap_or(uri),
    };
    host_part.contains('?')
}

/// Every value of a Via header: `sent-protocol LWS sent-by *( SEMI via-params )`. The
/// parameters are those of the first (topmost) value.
///
/// With `drop_top_received`, the canonical form leaves out any `received` parameter of the
/// first via-parm: in a request we receive, that is the sender's own hop, so a `received`
/// there can only be the sender's claim about itself (RFC 3261 §18.2.1 has the receiver
/// add it). rsipstack keeps such a claim when the sent-by matches the packet's source, and
/// the ghost-call rule reads `received`, so a scanner could pass as the registrar with it.
pub(crate) fn check_via(value: &str, drop_top_received: bool) -> Result<Checked, Fault> {
    let mut canonical = Vec::new();
    let mut top = None;
    for one in split_commas(value) {
        let checked = check_via_value(one, drop_top_received && top.is_none())?;
        canonical.push(checked.canonical);
        top.get_or_insert(checked.params);
    }
    Ok(Checked {
        params: top.unwrap_or_default(),
        canonical: canonical.join(", "),
    })
}

fn check_via_value(value: &str, drop_received: bool) -> Result<Checked, Fault> {
    let mut parts = Vec::new();
    let mut cursor = Cursor::new(value);
    cursor.skip_ws();
    for (i, what) in ["protocol", "version", "transport"].iter().enumerate() {
        if i > 0 {
            cursor.skip_ws();
            if !cursor.eat(b'/') {
                return Err("a Via has no protocol/version/transport");
            }
            cursor.skip_ws();
        }
        let part = cursor.take_while(is_token_char);
        parts.push(part);
        if part.is_empty() {
            return Err(match *what {
                "protocol" if value.trim().is_empty() => "an empty Via value",
                _ => "a Via has no protocol/version/transport",
            });
        }
    }
    if cursor.skip_ws() == 0 {
        return Err("a Via has no space before its sent-by");
    }
    let host = if cursor.peek() == Some(b'[') {
        let host = cursor.take_while(|b| b != b']');
        if !cursor.eat(b']') {
            return Err("a Via has an unterminated IPv6 reference");
        }
        host
    } else {
        cursor.take_while(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    };
    if host.is_empty() {
        return Err("a Via has no host");
    }
    let bracket = if host.starts_with('[') { "]" } else { "" };
    let mut canonical = format!("{} {host}{bracket}", parts.join("/"));
    cursor.skip_ws();
    if cursor.eat(b':') {
        cursor.skip_ws();
        let port = cursor.take_while(|b| b.is_ascii_digit());
        if port.parse::<u16>().is_err() {
            return Err("a Via has a bad port");
        }
        canonical.push(':');
        canonical.push_str(port);
    }
    let params = cursor.params()?;
    if drop_received {
        let kept: Params = params
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("received"))
            .cloned()
            .collect();
        canonical.push_str(&canonical_params(&kept));
    } else {
        canonical.push_str(&canonical_params(&params));
    }
    Ok(Checked { params, canonical })
}

/// `CSeq: 1*DIGIT LWS Method`; the number must be below 2**31 (RFC 3261 §8.1.1.5).
/// Returns the method.
pub(crate) fn check_cseq(value: &str) -> Result<&str, Fault> {
    let mut cursor = Cursor::new(value);
    let number = cursor.take_while(|b| b.is_ascii_digit());
    match number.parse::<u64>() {
        Ok(n) if n < 1 << 31 => {}
        _ => return Err("the CSeq number is missing or out of range"),
    }
    if cursor.skip_ws() == 0 {
        return Err("the CSeq has no method");
    }
    let method = cursor.take_while(is_token_char);
    cursor.skip_ws();
    if method.is_empty() || !cursor.is_done() {
        return Err("the CSeq has no method");
    }
    Ok(method)
}
