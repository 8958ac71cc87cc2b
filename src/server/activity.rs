//! What one connection is doing, for its header and idle timeouts: whether
//! a request is being served, since when it has been idle, and when the
//! first byte of the next request came. [`Tracked`] is the socket that
//! reports the bytes it reads and holds the connection's place;
//! [`Activity::expired`] resolves when the connection has waited too long.

use super::limits::ConnectionPermit;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The timeouts that apply between requests.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From the connection's start, or from the first byte of a later
    /// request, to the end of the request head.
    pub header: Duration,
    /// From the end of a response to the first byte of the next request.
    pub idle: Duration,
}

/// The state of one connection, shared by its socket, its service and its
/// watchdog.
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

struct State {
    /// Requests whose response has not been sent completely.
    in_flight: usize,
    /// Requests served so far.
    served: u64,
    /// When the connection started, or its last response ended.
    idle_since: Instant,
    /// When the first byte after `idle_since` was read.
    head_started: Option<Instant>,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                in_flight: 0,
                served: 0,
                idle_since: Instant::now(),
                head_started: None,
            }),
            changed: Notify::new(),
        })
    }

    /// A request head has arrived; the returned guard marks its end when
    /// dropped (after its response body was sent, or when it was abandoned).
    pub fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.update(|state| {
            state.in_flight += 1;
            state.head_started = None;
        });
        RequestGuard(self.clone())
    }

    fn bytes_read(&self) {
        let mut state = self.lock();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// When the connection must be closed if nothing changes; `None` while
    /// a request is being served (the body timeout covers that).
    fn deadline(&self, timeouts: Timeouts) -> Option<Instant> {
        let state = self.lock();
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.head_started {
            Some(started) => started + timeouts.header,
            None if state.served == 0 => state.idle_since + timeouts.header,
            None => state.idle_since + timeouts.idle,
        })
    }

    /// Resolves once the connection has waited longer than `timeouts`
    /// allow: for a request head, or idle for the next request.
    pub async fn expired(&self, timeouts: Timeouts) {
        loop {
            match self.deadline(timeouts) {
                None => self.changed.notified().await,
                Some(at) if at <= Instant::now() => return,
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = self.changed.notified() => {}
                    }
                }
            }
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.lock());
        self.changed.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Marks the end of one request when dropped.
pub struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.update(|state| {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.served += 1;
            if state.in_flight == 0 {
                state.idle_since = Instant::now();
                state.head_started = None;
            }
        });
    }
}

/// A client socket that reports what it reads to its [`Activity`] and
/// holds the connection's place until it is dropped, wherever it goes
/// (into a WebSocket session after an upgrade).
pub struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
    _permit: ConnectionPermit,
}

impl Tracked {
    pub fn new(stream: TcpStream, activity: Arc<Activity>, permit: ConnectionPermit) -> Self {
        Self {
            stream,
            activity,
            _permit: permit,
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        idle: Duration::from_secs(60),
    };

    #[test]
    fn deadlines_follow_the_requests() {
        let activity = Activity::new();
        let since = |a: &Activity| a.lock().idle_since;
        assert_eq!(activity.deadline(T), Some(since(&activity) + T.header));
        let guard = activity.request_started();
        activity.bytes_read();
        assert_eq!(activity.deadline(T), None, "no deadline while serving");
        drop(guard);
        assert_eq!(activity.deadline(T), Some(since(&activity) + T.idle));
        activity.bytes_read();
        let started = activity.lock().head_started.unwrap();
        assert_eq!(activity.deadline(T), Some(started + T.header));
    }

    #[tokio::test]
    async fn expired_resolves_once_the_deadline_has_passed() {
        let activity = Activity::new();
        let none = Timeouts {
            header: Duration::ZERO,
            idle: Duration::ZERO,
        };
        activity.expired(none).await;
    }
}
