//! A thread that owns one cpal stream for the life of a handle.
//!
//! cpal's `Stream` (and on some platforms its `Device` and `Host`) is not `Send`, yet the
//! engine's handles live in tokio tasks. So the host, the device and the stream are all made
//! on a dedicated thread, which then just waits; dropping the handle stops and drops the
//! stream there.

use std::sync::mpsc;
use std::thread::JoinHandle;

use cpal::traits::StreamTrait;

use crate::AudioError;

/// Keeps a stream alive on its own thread; dropping this stops it.
#[derive(Debug)]
pub(crate) struct StreamThread {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StreamThread {
    /// Runs `build` on a new thread named `name`, starts the stream it returns, and hands
    /// back `build`'s other result (what the handle needs: rings, the device's format).
    pub(crate) fn spawn<T, F>(name: &str, build: F) -> Result<(Self, T), AudioError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<(cpal::Stream, T), AudioError> + Send + 'static,
    {
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<T, AudioError>>(1);
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let stream = match build() {
                    Ok((stream, handed)) => match stream.play() {
                        Ok(()) => {
                            let _ = ready_tx.send(Ok(handed));
                            stream
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(AudioError::Host(e.to_string())));
                            return;
                        }
                    },
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Nothing is ever sent: `recv` returns when the handle drops the sender.
                let _ = stop_rx.recv();
                drop(stream);
            })
            .map_err(|e| AudioError::Host(format!("cannot start an audio thread: {e}")))?;
        let mut owner = Self {
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        match ready_rx.recv() {
            Ok(Ok(handed)) => Ok((owner, handed)),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                owner.stop.take();
                Err(AudioError::Host(
                    "the audio thread ended while opening".into(),
                ))
            }
        }
    }
}

impl Drop for StreamThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        // Joined so the device is really released when the handle is gone (reopening it at
        // once then works); stopping a stream takes a few milliseconds.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
