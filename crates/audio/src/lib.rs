//! Sound devices for Sidetone: capture and playout threads, resampling, echo cancellation, noise suppression and gain, ringer, and WAV sources and sinks for headless use.
