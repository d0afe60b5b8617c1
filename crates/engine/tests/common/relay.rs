//! A UDP relay on loopback that counts the REGISTER requests passing through it.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Forwards datagrams between one client and `upstream`, counting REGISTERs.
pub struct CountingRelay {
    pub addr: SocketAddr,
    registers: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl CountingRelay {
    pub fn start(upstream: SocketAddr) -> Self {
        let front = UdpSocket::bind("127.0.0.1:0").unwrap();
        let back = UdpSocket::bind("127.0.0.1:0").unwrap();
        for socket in [&front, &back] {
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
        }
        let addr = front.local_addr().unwrap();
        let registers = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();

        let (front2, back2) = (front.try_clone().unwrap(), back.try_clone().unwrap());
        let (count, stop1, client1) = (registers.clone(), stop.clone(), client.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop1.load(Ordering::Relaxed) {
                if let Ok((n, from)) = front.recv_from(&mut buf) {
                    if buf[..n].starts_with(b"REGISTER ") {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    *client1.lock().unwrap() = Some(from);
                    let _ = back.send_to(&buf[..n], upstream);
                }
            }
        });
        let stop2 = stop.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop2.load(Ordering::Relaxed) {
                if let Ok((n, _)) = back2.recv_from(&mut buf)
                    && let Some(to) = *client.lock().unwrap()
                {
                    let _ = front2.send_to(&buf[..n], to);
                }
            }
        });
        Self {
            addr,
            registers,
            stop,
        }
    }

    pub fn registers(&self) -> usize {
        self.registers.load(Ordering::SeqCst)
    }
}

impl Drop for CountingRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
