//! A WebSocket client for tests: requests with ids, replies matched by id,
//! pushes buffered by type.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A server the client can connect to.
pub trait WsServer {
    /// `ws://host:port` reachable without special name resolution.
    fn ws_base(&self) -> String;
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    socket: Socket,
    pushes: VecDeque<Value>,
    next_id: u64,
    /// The `session.ready` snapshot.
    pub ready: Value,
}

/// How long to wait for something that should arrive.
const WAIT: Duration = Duration::from_secs(10);

impl WsClient {
    /// Connects with the token in `Sec-WebSocket-Protocol`.
    pub async fn connect(s: &impl WsServer, token: &str) -> Self {
        let url = format!("{}/api/v1/ws", s.ws_base());
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "sec-websocket-protocol",
            format!("confab.v1, {token}").parse().unwrap(),
        );
        let (socket, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(resp.headers()["sec-websocket-protocol"], "confab.v1");
        let mut client = WsClient {
            socket,
            pushes: VecDeque::new(),
            next_id: 0,
            ready: Value::Null,
        };
        client.ready = client.push("session.ready").await;
        client
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.unwrap();
    }

    /// The next frame that is not a push, buffering pushes.
    pub async fn next_reply(&mut self) -> Value {
        loop {
            let frame = self.next_frame().await;
            match frame["type"].as_str() {
                Some("result") | Some("error") => return frame,
                _ => self.pushes.push_back(frame),
            }
        }
    }

    async fn next_frame(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("no frame in time")
                .expect("socket closed")
                .expect("socket error");
            match message {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(frame) => panic!("closed by server: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Sends a request and returns its whole reply frame.
    pub async fn call(&mut self, kind: &str, data: Value) -> Value {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.call_with_id(kind, data, &id).await
    }

    pub async fn call_with_id(&mut self, kind: &str, data: Value, id: &str) -> Value {
        let frame = json!({"type": kind, "id": id, "data": data});
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        let reply = self.next_reply().await;
        assert_eq!(reply["id"], id, "reply to another request: {reply}");
        reply
    }

    /// Sends a request that must succeed; returns its data.
    pub async fn ok(&mut self, kind: &str, data: Value) -> Value {
        let reply = self.call(kind, data.clone()).await;
        assert_eq!(reply["type"], "result", "{kind} {data} failed: {reply}");
        reply["data"].clone()
    }

    /// Sends a request that must fail with `code`; returns the error.
    pub async fn err(&mut self, kind: &str, data: Value, code: &str) -> Value {
        let reply = self.call(kind, data.clone()).await;
        assert_eq!(reply["type"], "error", "{kind} {data} should fail: {reply}");
        assert_eq!(reply["error"]["code"], code, "{kind} {data}: {reply}");
        reply["error"].clone()
    }

    /// The next push of type `kind` (others of other types stay buffered).
    pub async fn push(&mut self, kind: &str) -> Value {
        if let Some(pos) = self.pushes.iter().position(|p| p["type"] == kind) {
            return self.pushes.remove(pos).unwrap()["data"].clone();
        }
        loop {
            let frame = self.next_frame().await;
            if frame["type"] == kind {
                return frame["data"].clone();
            }
            self.pushes.push_back(frame);
        }
    }

    /// The next push of type `kind` for which `pred` holds; earlier pushes
    /// of that type that do not match are dropped.
    pub async fn push_where(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let data = self.push(kind).await;
            if pred(&data) {
                return data;
            }
        }
    }

    /// Asserts that no push of `kind` matching `pred` has arrived. Call it
    /// after another client of the same audience received its copy (the
    /// hub queues one event to every session at once); the server writes
    /// queued pushes before the reply to this ping, so everything that was
    /// queued is read and checked.
    pub async fn assert_no_push(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) {
        self.ok("ping", json!({})).await;
        let found: Vec<_> = self
            .pushes
            .iter()
            .filter(|p| p["type"] == kind && pred(&p["data"]))
            .collect();
        assert!(found.is_empty(), "unexpected {kind}: {found:?}");
    }

    /// The pushes received so far and not yet taken, in arrival order (as
    /// whole frames), leaving none buffered.
    pub fn take_pushes(&mut self) -> Vec<Value> {
        self.pushes.drain(..).collect()
    }

    /// Drops buffered pushes.
    pub fn clear(&mut self) {
        self.pushes.clear();
    }

    /// Reads until the server closes the socket; returns code and reason.
    pub async fn closed_by_server(mut self) -> (u16, String) {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("not closed in time")
                .expect("socket ended without a close frame")
                .expect("socket error");
            if let Message::Close(Some(frame)) = message {
                return (frame.code.into(), frame.reason.to_string());
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
