//! Connection limits under abuse: request heads and bodies that stop
//! halfway, idle kept-alive connections, the per-IP connection cap, a
//! server full of slow clients that still answers `/healthz`, and
//! WebSocket clients that stop reading. Transport-level behaviour, so one
//! backend (SQLite) is enough.
//!
//! Every wait here is an upper bound on something that must happen (a
//! connection closed, a place freed), far above the configured timeouts;
//! no test measures how fast.

use crate::common::{Backend, TestServer};
use crate::ws_client::WsClient;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The longest any test waits for the server to act.
const WAIT: Duration = Duration::from_secs(60);
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: confab.test\r\nConnection: close\r\n\r\n";

async fn start(args: &[&str]) -> TestServer {
    TestServer::start(Backend::Sqlite, args).await.unwrap()
}

/// A TCP connection to `server` from the loopback address `from`.
async fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// Reads until the server closes the connection (end of stream or reset)
/// and returns what came before; panics if it stays open for `WAIT`.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = vec![];
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(WAIT, stream.read(&mut buf))
            .await
            .expect("the server did not close the connection");
        match read {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// `GET /healthz` over a new connection from `from`; the whole response.
async fn healthz_from(from: &str, server: SocketAddr) -> String {
    let mut stream = connect_from(from, server).await;
    let _ = stream.write_all(HEALTHZ).await;
    read_until_closed(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_heads_that_do_not_come_are_closed() {
    let s = start(&["--http-header-timeout-s", "1"]).await;
    let mut silent = TcpStream::connect(s.addr()).await.unwrap();
    let mut halfway = TcpStream::connect(s.addr()).await.unwrap();
    halfway.write_all(b"GET /heal").await.unwrap();
    assert_eq!(read_until_closed(&mut halfway).await, "");
    assert_eq!(read_until_closed(&mut silent).await, "");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_kept_alive_connections_are_closed() {
    let s = start(&[
        "--http-idle-timeout-s",
        "1",
        "--http-header-timeout-s",
        "3600",
    ])
    .await;
    let mut stream = TcpStream::connect(s.addr()).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: confab.test\r\n\r\n")
        .await
        .unwrap();
    let got = read_until_closed(&mut stream).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_halfway_gets_408_and_the_connection_closes() {
    let s = start(&["--http-body-timeout-s", "1"]).await;
    let mut stream = TcpStream::connect(s.addr()).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: confab.test\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": \"ada\",",
        )
        .await
        .unwrap();
    let got = read_until_closed(&mut stream).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("\"code\":\"request_timeout\""), "{got}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_client_address() {
    let s = start(&[
        "--max-connections-per-ip",
        "2",
        "--http-header-timeout-s",
        "3600",
    ])
    .await;
    let mut held = vec![];
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.1", s.addr()).await;
        stream.write_all(b"GET /heal").await.unwrap();
        held.push(stream);
    }
    assert_eq!(
        healthz_from("127.0.0.1", s.addr()).await,
        "",
        "a third connection from 127.0.0.1 is closed unanswered"
    );
    let other = healthz_from("127.0.0.2", s.addr()).await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");
    drop(held.pop());
    let mut answered = false;
    for _ in 0..300 {
        if healthz_from("127.0.0.1", s.addr())
            .await
            .starts_with("HTTP/1.1 200")
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answered, "a closed connection frees its place");
    s.stop().await;
}

/// Kills the child process when dropped, so a failing test leaves none.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// More slow clients than the process has descriptors: the server caps
/// its connections below the limit, closes the slow ones after the header
/// timeout, and `/healthz` is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_slow_clients_outnumber_the_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let db = format!("sqlite://{}", dir.path().join("confab.db").display());
    let bind = addr.to_string();
    let _server = Server(
        Command::new("bash")
            .args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_confab"))
            .args(["--bind", &bind, "--database-url", &db, "--log", "error"])
            .args(["--http-header-timeout-s", "2"])
            .args(["--max-connections-per-ip", "0"])
            .env_remove("DATABASE_URL")
            .env_remove("CONFAB_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut up = false;
    for _ in 0..300 {
        if TcpStream::connect(addr).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up");
    let mut slow = vec![];
    for _ in 0..400 {
        if let Ok(mut stream) = TcpStream::connect(addr).await {
            let _ = stream.write_all(b"GET /heal").await;
            slow.push(stream);
        }
    }
    let answer = healthz_from("127.0.0.1", addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A WebSocket session of `token` over a socket with a small receive
/// buffer, so a client that stops reading is stuck soon.
async fn small_window_session(s: &TestServer, token: &str) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(s.addr()).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(ws_request(s, token), stream)
        .await
        .unwrap();
    ws
}

fn ws_request(
    s: &TestServer,
    token: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = format!("{}/api/v1/ws", s.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("confab.v1, {token}").parse().unwrap(),
    );
    req
}

/// The HTTP status of a new WebSocket upgrade: 101 or the refusal.
async fn upgrade_status(s: &TestServer, token: &str) -> u16 {
    match tokio_tungstenite::connect_async(ws_request(s, token)).await {
        Ok((mut ws, resp)) => {
            let _ = ws.close(None).await;
            resp.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("upgrade failed: {e}"),
    }
}

/// Waits until an upgrade for `token` is accepted again.
async fn place_freed(s: &TestServer, token: &str) -> bool {
    for _ in 0..(WAIT.as_millis() / 200) {
        if upgrade_status(s, token).await == 101 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Reads text frames until the result of `id`.
async fn result_of(ws: &mut WebSocketStream<TcpStream>, id: &str) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no reply in time")
            .expect("socket closed")
            .expect("socket error");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["id"] == id {
                return frame;
            }
        }
    }
}

const BIG: &[&str] = &[
    "--max-sessions-per-user",
    "1",
    "--max-message-chars",
    "60000",
    "--max-frame-bytes",
    "131072",
    "--ws-requests-per-s",
    "100000",
];

/// A client that sends requests but reads none of the (large) replies:
/// its session counts toward `max_sessions_per_user` while it lives, and
/// its connection is dropped after `ws_write_timeout_s`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let s = start(&[BIG, &["--ws-write-timeout-s", "1"]].concat()).await;
    let (token, _) = s.register("stuck").await;
    let mut ws = small_window_session(&s, &token).await;
    let create = json!({"type": "conversation.create", "id": "c", "data": {"name": "notes"}});
    ws.send(Message::Text(create.to_string().into()))
        .await
        .unwrap();
    let group = result_of(&mut ws, "c").await["data"]["id"].clone();
    assert_eq!(upgrade_status(&s, &token).await, 429, "the session counts");
    let (mut sink, mut stream) = ws.split();
    let body = "x".repeat(60_000);
    let writer = tokio::spawn(async move {
        for i in 0..150 {
            let frame = json!({"type": "message.send", "id": i.to_string(),
                "data": {"conversation": group, "body": body}});
            if sink
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    assert!(
        place_freed(&s, &token).await,
        "the stuck session was not dropped"
    );
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stuck client's socket is still open");
    writer.abort();
    s.stop().await;
}

/// A client that stops reading pushes is cut off as a slow consumer, but
/// its session counts toward `max_sessions_per_user` until its socket is
/// gone: a second session is refused meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_session_counts_until_its_socket_is_gone() {
    let s = start(
        &[
            BIG,
            &["--session-queue", "4", "--ws-write-timeout-s", "3600"],
        ]
        .concat(),
    )
    .await;
    let (token, stuck_id) = s.register("stuck").await;
    let mut stuck = small_window_session(&s, &token).await;
    let (talker_token, _) = s.register("talker").await;
    let mut talker = WsClient::connect(&s, &talker_token).await;
    let group = talker
        .ok(
            "conversation.create",
            json!({"name": "flood", "members": [stuck_id]}),
        )
        .await["id"]
        .clone();
    let body = "x".repeat(60_000);
    for _ in 0..150 {
        let sent = talker
            .ok("message.send", json!({"conversation": group, "body": body}))
            .await;
        // The hub queued this push to every member when the talker got it.
        talker
            .push_where("message.created", |m| m["id"] == sent["id"])
            .await;
    }
    assert_eq!(
        upgrade_status(&s, &token).await,
        429,
        "the cut-off session still counts"
    );
    let close = tokio::time::timeout(WAIT, async {
        while let Some(Ok(message)) = stuck.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
        }
        None
    })
    .await
    .expect("no close frame in time");
    assert_eq!(close, Some((1008, "slow_consumer".to_owned())));
    drop(stuck);
    assert!(place_freed(&s, &token).await);
    s.stop().await;
}
