//! Entry points for the fuzz targets in `fuzz/` into parsers that are not public API.
//! Built only with the `fuzzing` feature, which nothing but `sidetone-fuzz` turns on.

/// What the sign-in callback listener makes of one HTTP request head while it waits for
/// the redirect carrying `state`: `ours`, `other_state` or `not_found`.
pub fn classify_sso_callback(head: &[u8], state: &str) -> &'static str {
    crate::sso::classify_to_word(head, state)
}

/// What the provisioning client makes of a non-200 answer with `status` and `body` to a
/// request for `url` (an error, or the accounts to pick from for a `300`).
pub fn provisioning_answer(
    url: &url::Url,
    status: u16,
    body: &[u8],
) -> crate::Result<crate::FetchOutcome> {
    crate::client::answer_from(url, status, body, None)
}
