//! Per-call media for Sidetone: SDP offer/answer, RTP/RTCP, SRTP, WebRTC (ICE, DTLS-SRTP), codecs (Opus, G.711), the jitter buffer and DTMF (RFC 4733).
