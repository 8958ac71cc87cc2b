//! One WebSocket session: registers with the hub, sends the `session.ready`
//! snapshot, then answers requests and forwards pushes until the socket
//! ends. Pushes are written with `feed` and one `flush` per wakeup; a write
//! that does not complete within `ws_write_timeout_s` drops the connection.

use super::hub::{Outbound, SessionGuard, SessionId};
use super::protocol::{dispatch, error_frame, result_frame, Caller, ClientFrame};
use crate::chat::events::SessionEnd;
use crate::chat::users::User;
use crate::chat::views::Status;
use crate::error::Error;
use crate::state::AppState;
use crate::strict_json::check_unique_keys;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const PING_EVERY: Duration = Duration::from_secs(30);
/// Most pushes written per flush when the queue wakes the session.
const FORWARD_BATCH: usize = 256;
const IDLE_LIMIT: Duration = Duration::from_secs(75);
/// Close code for a session cut off because it could not keep up (RFC 6455
/// 1008, policy violation), with the reason `slow_consumer`.
const CLOSE_POLICY: u16 = 1008;

/// Runs a session until the socket closes. The session counts toward its
/// user's cap (its `guard`) until its TCP connection is closed.
pub async fn run(
    mut socket: WebSocket,
    state: AppState,
    user: User,
    guard: SessionGuard,
    queue: mpsc::Receiver<Outbound>,
) {
    let session = guard.id;
    if let Err(e) = state
        .chat
        .set_session_status(user.id, session, Status::Online)
        .await
    {
        tracing::error!("presence update failed: {e}");
    }
    let outcome = serve(&mut socket, &state, &user, session, queue).await;
    drop(socket);
    drop(guard);
    if let Err(e) = state.chat.session_closed(user.id, session).await {
        tracing::error!("presence update failed: {e}");
    }
    tracing::debug!(user = %user.id, session, ?outcome, "session ended");
}

#[derive(Debug)]
enum Ended {
    ClientClosed,
    SlowConsumer,
    Idle,
    SocketError,
    /// A write made no progress within `ws_write_timeout_s`: the client
    /// stopped reading, and its connection is dropped.
    WriteTimeout,
    ClosedByServer,
}

async fn serve(
    socket: &mut WebSocket,
    state: &AppState,
    user: &User,
    session: SessionId,
    mut queue: mpsc::Receiver<Outbound>,
) -> Ended {
    let caller = Caller {
        chat: &state.chat,
        federation: &state.federation,
        user: user.id,
        session,
    };
    let mut out = Writer {
        socket,
        limit: Duration::from_secs(state.config.ws_write_timeout_s),
    };
    // Registered before the snapshot is read, so nothing falls between.
    let ready = ready_frame(state, user).await;
    if let Err(ended) = out.send(Message::Text(ready.into())).await {
        return ended;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut recheck = tokio::time::interval(Duration::from_secs(state.config.session_recheck_s));
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    recheck.tick().await;
    let mut last_seen = Instant::now();
    let mut bucket = TokenBucket::new(f64::from(state.config.ws_requests_per_s));
    loop {
        // Pushes first: whatever was queued before a request arrived, or
        // while it ran, is written before that request's reply.
        tokio::select! {
            biased;
            pushed = queue.recv() => {
                let Some(first) = pushed else {
                    return out.close("slow_consumer", Ended::SlowConsumer).await;
                };
                match out.forward(first, &mut queue, FORWARD_BATCH).await {
                    Ok(None) => {}
                    Ok(Some(reason)) => return out.close(reason, Ended::ClosedByServer).await,
                    Err(ended) => return ended,
                }
            }
            incoming = out.socket.next() => {
                let Some(Ok(message)) = incoming else { return Ended::SocketError };
                last_seen = Instant::now();
                let reply = match message {
                    Message::Text(text) => Some(answer(&caller, state, &mut bucket, text.as_str()).await),
                    Message::Binary(_) => Some(error_frame(None, &Error::MalformedFrame("send text frames with JSON".into()))),
                    Message::Close(_) => return Ended::ClientClosed,
                    Message::Ping(_) | Message::Pong(_) => None,
                };
                if let Some(reply) = reply {
                    // The request's own pushes were queued while it ran
                    // (the hub queues inside `publish`): they go first.
                    if let Some(ended) = out.drain(&mut queue).await {
                        return ended;
                    }
                    if let Err(ended) = out.send(Message::Text(reply.into())).await {
                        return ended;
                    }
                }
            }
            _ = recheck.tick() => {
                if let Some(end) = still_valid(state, user).await {
                    return out.close(end.as_str(), Ended::ClosedByServer).await;
                }
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > IDLE_LIMIT {
                    let _ = out.send(close(1001, "idle")).await;
                    return Ended::Idle;
                }
                if let Err(ended) = out.send(Message::Ping(Default::default())).await {
                    return ended;
                }
            }
        }
    }
}

/// Why the session must end, if its account changed behind its back (a
/// password change, revocation, suspension or role change made by another
/// process, such as the CLI). A failed check lets the session go on.
async fn still_valid(state: &AppState, user: &User) -> Option<SessionEnd> {
    match state
        .chat
        .session_check(user.id, user.token_generation, user.role)
        .await
    {
        Ok(end) => end,
        Err(e) => {
            tracing::warn!(user = %user.id, "session re-check failed: {e}");
            None
        }
    }
}

/// The socket's write side, where every write or flush must complete
/// within `limit`.
struct Writer<'a> {
    socket: &'a mut WebSocket,
    limit: Duration,
}

impl Writer<'_> {
    async fn send(&mut self, message: Message) -> Result<(), Ended> {
        within(self.limit, self.socket.send(message)).await
    }

    /// Sends close 1008 with `reason`, then ends as `ended` (or as a write
    /// timeout, if the client does not take the close frame either).
    async fn close(&mut self, reason: &'static str, ended: Ended) -> Ended {
        match self.send(close(CLOSE_POLICY, reason)).await {
            Err(Ended::WriteTimeout) => Ended::WriteTimeout,
            _ => ended,
        }
    }

    /// Writes what is queued now (not what arrives meanwhile, so a busy
    /// queue cannot hold a reply back for long), so that a reply written
    /// next comes after it; `Some` when the session must end.
    async fn drain(&mut self, queue: &mut mpsc::Receiver<Outbound>) -> Option<Ended> {
        let queued = queue.len();
        let first = queue.try_recv().ok()?;
        match self.forward(first, queue, queued).await {
            Ok(None) => None,
            Ok(Some(reason)) => Some(self.close(reason, Ended::ClosedByServer).await),
            Err(ended) => Some(ended),
        }
    }

    /// Writes `first` and up to `budget - 1` more items already queued,
    /// then flushes once; returns the reason when the hub asked to close
    /// the session.
    async fn forward(
        &mut self,
        first: Outbound,
        queue: &mut mpsc::Receiver<Outbound>,
        budget: usize,
    ) -> Result<Option<&'static str>, Ended> {
        let mut next = Some(first);
        let mut budget = budget;
        while let Some(item) = next.take() {
            match item {
                Outbound::Frame(frame) => {
                    within(self.limit, self.socket.feed(Message::Text(frame))).await?
                }
                Outbound::Close(reason) => {
                    within(self.limit, self.socket.flush()).await?;
                    return Ok(Some(reason));
                }
            }
            budget = budget.saturating_sub(1);
            if budget > 0 {
                next = queue.try_recv().ok();
            }
        }
        within(self.limit, self.socket.flush()).await?;
        Ok(None)
    }
}

/// Runs one write; an error or no completion within `limit` ends the
/// session.
async fn within(
    limit: Duration,
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), Ended> {
    match tokio::time::timeout(limit, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Ended::SocketError),
        Err(_) => Err(Ended::WriteTimeout),
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Parses and runs one text frame, returning the reply frame.
async fn answer(
    caller: &Caller<'_>,
    state: &AppState,
    bucket: &mut TokenBucket,
    text: &str,
) -> String {
    if text.len() > state.config.max_frame_bytes {
        return error_frame(None, &Error::PayloadTooLarge);
    }
    let parsed = check_unique_keys(text).and_then(|()| serde_json::from_str(text));
    let frame: ClientFrame = match parsed {
        Ok(frame) => frame,
        Err(e) => {
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned));
            return error_frame(
                id.as_deref(),
                &Error::MalformedFrame(format!("not a request frame: {e}")),
            );
        }
    };
    let id = frame.id.clone();
    if !bucket.take() {
        metrics::counter!("confab_rate_limited_total", "what" => "ws_request").increment(1);
        let err = crate::chat::ChatError::RateLimited("slow down".into());
        return error_frame(id.as_deref(), &err.into());
    }
    match dispatch(caller, frame).await {
        Ok(data) => result_frame(id.as_deref(), data),
        Err(e) => error_frame(id.as_deref(), &e),
    }
}

/// `session.ready`: who you are, your status, conversations and contacts.
async fn ready_frame(state: &AppState, user: &User) -> String {
    let chat = &state.chat;
    let snapshot = async {
        Ok::<_, crate::chat::ChatError>(json!({
            "user": user,
            "status": chat.status(user.id),
            "conversations": chat.list_conversations(user.id).await?,
            "contacts": chat.contacts(user.id).await?,
            "blocks": chat.blocks(user.id).await?,
        }))
    };
    match snapshot.await {
        Ok(data) => json!({"type": "session.ready", "data": data}).to_string(),
        Err(e) => error_frame(None, &e.into()),
    }
}

/// A per-session request budget: `rate` per second, bursts of `2 * rate`.
struct TokenBucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            tokens: 2.0 * rate,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(2.0 * self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
