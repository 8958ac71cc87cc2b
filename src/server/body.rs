//! Body wrappers of one connection's requests: [`Deadline`] fails a
//! request body that has not fully arrived by its deadline (and says so in
//! a shared flag, so the response becomes 408 whatever the handler made of
//! the error); [`Finishing`] carries a response body and marks the end of
//! its request when hyper drops it, once it was written.

use super::activity::RequestGuard;
use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::time::{Instant, Sleep};

/// The error a request body read ends with after its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within http_body_timeout_s")]
pub struct BodyTimeout;

/// A request body that must be complete by a deadline.
pub struct Deadline {
    inner: hyper::body::Incoming,
    at: Instant,
    /// Started on the first read that has to wait.
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl Deadline {
    /// Wraps `inner`; `timed_out` is set if the deadline `at` passes
    /// before the body is complete.
    pub fn new(inner: hyper::body::Incoming, at: Instant, timed_out: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            at,
            sleep: None,
            timed_out,
        }
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let at = self.at;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        ready!(sleep.as_mut().poll(cx));
        self.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(Box::new(BodyTimeout))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that ends its request's [`RequestGuard`] when dropped.
pub struct Finishing {
    inner: Body,
    _request: RequestGuard,
}

impl Finishing {
    pub fn new(inner: Body, request: RequestGuard) -> Self {
        Self {
            inner,
            _request: request,
        }
    }
}

impl http_body::Body for Finishing {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
