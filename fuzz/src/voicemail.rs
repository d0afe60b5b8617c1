//! Voicemail: the e-mails the IMAP server holds, each a message with an audio attachment.

use sidetone_voicemail::{audio_attachment, parse_meta};

/// A voicemail e-mail as the IMAP server sends it (headers and MIME body).
///
/// Holds: an attachment found is not empty and not larger than the message it came from.
pub fn voicemail_message(data: &[u8]) {
    let _ = parse_meta(data, Some(0));
    let _ = parse_meta(data, None);
    if let Some(audio) = audio_attachment(data) {
        assert!(!audio.is_empty(), "an empty attachment was returned");
        assert!(
            audio.len() <= data.len(),
            "the attachment outgrew its message"
        );
    }
}
