//! Just enough reading of SIP text to check answers: header values and status codes.

/// The first value of header `name` (or its compact form), as sent.
pub fn header<'a>(message: &'a str, name: &str, compact: Option<&str>) -> Option<&'a str> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, value) = line.split_once(':')?;
        let n = n.trim();
        let matches =
            n.eq_ignore_ascii_case(name) || compact.is_some_and(|c| n.eq_ignore_ascii_case(c));
        matches.then(|| value.trim())
    })
}

/// The Call-ID, or the CSeq when there is none: what ties an answer to the message sent.
pub fn key(message: &str) -> Option<String> {
    header(message, "Call-ID", Some("i"))
        .or_else(|| header(message, "CSeq", None))
        .map(str::to_owned)
}

/// The status code of a response.
pub fn status(message: &str) -> Option<u16> {
    let line = message.strip_prefix("SIP/2.0 ")?;
    line.get(..3)?.parse().ok()
}
