//! Audio on demand: download one message's audio attachment into the [`AudioCache`],
//! record it in the store, and save it elsewhere as a WAV file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mail_parser::{MessageParser, MimeHeaders, PartType};
use sidetone_store::{CachedAudio, Store, VoicemailId};

use crate::store_access::lock;
use crate::{AudioCache, Result, VoicemailAccount, VoicemailError, VoicemailSync};

impl VoicemailSync {
    /// The local audio file of voicemail `id`: the cached one (marked as just used), or
    /// downloaded now from the server (`BODY.PEEK[]`: listening does not mark it heard).
    /// The cache is then trimmed to its cap, least recently used first.
    pub async fn audio(
        &self,
        account: &VoicemailAccount,
        store: &Mutex<Store>,
        id: VoicemailId,
        cache: &AudioCache,
    ) -> Result<PathBuf> {
        let voicemail = lock(store)
            .voicemail()
            .get(id)?
            .ok_or(VoicemailError::NotFound(id.0))?;
        if let Some(audio) = &voicemail.audio
            && std::fs::metadata(&audio.path).is_ok_and(|m| m.len() == audio.size)
        {
            AudioCache::touch(&audio.path);
            return Ok(audio.path.clone());
        }
        let message = voicemail.message;
        let mut conn = self.open(account).await?;
        let raw = self
            .within_timeout(async {
                let mailbox = conn.select(&message.folder).await?;
                if mailbox.uid_validity != Some(message.uidvalidity) {
                    return Ok(None);
                }
                conn.fetch_message(message.uid).await
            })
            .await;
        conn.logout().await;
        let raw = raw?.ok_or(VoicemailError::NotFound(id.0))?;
        let audio = audio_attachment(&raw).ok_or_else(|| VoicemailError::MalformedMessage {
            uid: message.uid,
            detail: "no audio attachment".to_owned(),
        })?;
        let path = cache.write(&message, &audio)?;
        let guard = lock(store);
        guard.voicemail().set_audio(
            id,
            Some(&CachedAudio {
                path: path.clone(),
                size: audio.len() as u64,
            }),
        )?;
        cache.evict(&guard, Some(&path))?;
        Ok(path)
    }

    /// Saves voicemail `id`'s audio as a WAV file at `dest` (downloading it if needed);
    /// returns the number of bytes written. A message whose audio is not WAV is
    /// [`VoicemailError::MalformedMessage`].
    pub async fn save_as_wav(
        &self,
        account: &VoicemailAccount,
        store: &Mutex<Store>,
        id: VoicemailId,
        cache: &AudioCache,
        dest: &Path,
    ) -> Result<u64> {
        let path = self.audio(account, store, id, cache).await?;
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| VoicemailError::audio_file(&path, e))?;
        if !is_wav(&bytes) {
            let uid = lock(store)
                .voicemail()
                .get(id)?
                .map_or(0, |v| v.message.uid);
            return Err(VoicemailError::MalformedMessage {
                uid,
                detail: "the audio is not a WAV file".to_owned(),
            });
        }
        tokio::fs::write(dest, &bytes)
            .await
            .map_err(|e| VoicemailError::audio_file(dest, e))?;
        Ok(bytes.len() as u64)
    }
}

/// The decoded bytes of the first `audio/*` part (or, failing that, the first attachment
/// named `*.wav`) of a raw message (RFC 5322 with MIME parts, as the IMAP server sends it).
pub fn audio_attachment(raw: &[u8]) -> Option<Vec<u8>> {
    let message = MessageParser::new().parse(raw)?;
    let is_audio = |part: &mail_parser::MessagePart<'_>| {
        part.content_type()
            .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("audio"))
            || part
                .attachment_name()
                .is_some_and(|n| n.to_ascii_lowercase().ends_with(".wav"))
    };
    // Only a part mail-parser decoded as binary: when the transfer encoding is broken it
    // falls back to text (invalid bytes become U+FFFD), which is no recording at all.
    let binary = |part: &mail_parser::MessagePart<'_>| match &part.body {
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => Some(bytes.to_vec()),
        _ => None,
    };
    message
        .parts
        .iter()
        .filter(|p| is_audio(p))
        .filter_map(binary)
        .find(|bytes| !bytes.is_empty())
}

/// A RIFF/WAVE header: the start of every WAV file.
pub(crate) fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_base64_wav_attachment() {
        let raw = b"From: a@b\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
            --XX\r\nContent-Type: text/plain\r\n\r\nHello\r\n\
            --XX\r\nContent-Type: audio/wav\r\nContent-Transfer-Encoding: base64\r\n\
            Content-Disposition: attachment; filename=\"msg0000.wav\"\r\n\r\n\
            UklGRiQAAABXQVZFZm10IA==\r\n--XX--\r\n";
        let audio = audio_attachment(raw).unwrap();
        assert!(audio.starts_with(b"RIFF"));
        assert!(is_wav(&audio));
        assert!(audio_attachment(b"From: a@b\r\n\r\nno parts").is_none());
        assert!(!is_wav(b"RIFF"));
    }

    #[test]
    fn a_part_whose_base64_is_broken_is_no_recording() {
        // Found by the voicemail_message fuzz target: mail-parser turns a part it cannot
        // decode into text, bad bytes into U+FFFD, so the "recording" outgrew its message.
        let raw = include_bytes!("../testdata/broken-base64-attachment.eml");
        assert_eq!(audio_attachment(raw), None);
    }
}
