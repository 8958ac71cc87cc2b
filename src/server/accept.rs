//! The accept loop: takes a connection place, accepts, admits the client
//! under the per-IP cap, and survives `accept` errors. Running out of
//! descriptors (EMFILE, ENFILE) or kernel memory is retried after a delay
//! that doubles up to a second, so the loop never spins while open
//! connections go on being served.

use super::limits::{ConnectionLimits, ConnectionPermit};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const FIRST_DELAY: Duration = Duration::from_millis(10);
const MAX_DELAY: Duration = Duration::from_secs(1);
/// While `accept` keeps failing, one warning per this many failures.
const WARN_EVERY: u64 = 60;

/// Accepted, admitted connections.
pub struct Acceptor {
    listener: TcpListener,
    limits: Arc<ConnectionLimits>,
    backoff: Backoff,
}

/// An admitted connection: its socket, its peer and its place.
pub struct Accepted {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub permit: ConnectionPermit,
}

impl Acceptor {
    pub fn new(listener: TcpListener, limits: Arc<ConnectionLimits>) -> Self {
        Self {
            listener,
            limits,
            backoff: Backoff::default(),
        }
    }

    /// The next admitted connection; `None` once no more can be accepted.
    /// Cancel-safe: nothing is accepted across an `.await`.
    pub async fn next(&mut self) -> Option<Accepted> {
        loop {
            let reserved = self.limits.reserve().await?;
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.backoff.succeeded();
                    match self.limits.admit(reserved, peer.ip()) {
                        Some(permit) => {
                            return Some(Accepted {
                                stream,
                                peer,
                                permit,
                            })
                        }
                        None => {
                            tracing::debug!(%peer, "connection refused: max_connections_per_ip")
                        }
                    }
                }
                Err(e) if is_per_connection(&e) => {
                    tracing::debug!("a connection failed before it was accepted: {e}");
                }
                Err(e) => {
                    drop(reserved);
                    tokio::time::sleep(self.backoff.failed(&e)).await;
                }
            }
        }
    }
}

/// Errors that concern only the connection being accepted (the client gave
/// up already); the next `accept` can succeed at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// The delay before the next `accept` after failures of the listener
/// itself (out of descriptors or memory).
#[derive(Default)]
struct Backoff {
    delay: Option<Duration>,
    failures: u64,
}

impl Backoff {
    /// Records a failure; returns how long to wait before trying again.
    fn failed(&mut self, e: &io::Error) -> Duration {
        self.failures += 1;
        if self.failures % WARN_EVERY == 1 {
            tracing::warn!(
                failures = self.failures,
                "accept failed: {e}; retrying with backoff (open connections are still served)"
            );
        }
        let delay = self.delay.map_or(FIRST_DELAY, |d| (d * 2).min(MAX_DELAY));
        self.delay = Some(delay);
        delay
    }

    fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting connections again");
        }
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_second_and_resets() {
        let mut backoff = Backoff::default();
        let emfile = io::Error::from_raw_os_error(24);
        let delays: Vec<_> = (0..10).map(|_| backoff.failed(&emfile)).collect();
        assert_eq!(delays[0], FIRST_DELAY);
        assert_eq!(delays[1], FIRST_DELAY * 2);
        assert_eq!(delays[9], MAX_DELAY);
        backoff.succeeded();
        assert_eq!(backoff.failed(&emfile), FIRST_DELAY);
    }

    #[test]
    fn descriptor_exhaustion_is_not_a_per_connection_error() {
        assert!(!is_per_connection(&io::Error::from_raw_os_error(24)));
        assert!(!is_per_connection(&io::Error::from_raw_os_error(23)));
        assert!(is_per_connection(&io::ErrorKind::ConnectionAborted.into()));
    }
}
