#!/usr/bin/env python3
"""Abuse probes for scripts/abuse.sh (issue 12). Each probe is a
subcommand that prints `figure: value` lines; abuse.sh starts the server
and calls them. Standard library only.

  abuse.py slow-clients PORT SERVER_PID N ADDRESSES
  abuse.py stuck-reader PORT TOKEN
"""

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time


def server_connections(port):
    """Established TCP connections the server (local port PORT) holds."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, check=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def healthz_ms(port, source="127.0.0.1", timeout=30.0):
    """Milliseconds until /healthz answers 200 on a new connection."""
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"/healthz answered {data[:40]!r}")
    return (time.monotonic() - start) * 1000


def healthz_samples(port, n=20):
    samples = []
    for _ in range(n):
        try:
            samples.append(healthz_ms(port))
        except (OSError, RuntimeError) as e:
            print(f"healthz_error: {e}")
        time.sleep(0.05)
    samples.sort()
    if not samples:
        return "no answer"
    return (f"median {samples[len(samples) // 2]:.1f} ms, "
            f"max {samples[-1]:.1f} ms ({len(samples)}/{n} answered)")


def slow_clients(port, pid, n, addresses):
    """Opens N clients that send half a request line, spread over
    ADDRESSES loopback addresses (127.0.1.1 ...), and reports what the
    server holds and how /healthz answers meanwhile."""
    held, refused = [], 0
    start = time.monotonic()
    for i in range(n):
        source = f"127.0.1.{1 + i % addresses}"
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                         source_address=(source, 0))
            s.sendall(b"GET /healthz HT")
            held.append(s)
        except OSError:
            refused += 1
    opened = time.monotonic() - start
    time.sleep(1)
    print(f"slow_clients: {n} from {addresses} address(es), opened in {opened:.1f} s"
          f" ({refused} connects failed)")
    print(f"server_holds: {server_connections(port)} connections")
    print(f"server_fds: {len(os.listdir(f'/proc/{pid}/fd'))}")
    print(f"healthz_while_held: {healthz_samples(port)}")
    while server_connections(port) > 0 and time.monotonic() - start < 120:
        time.sleep(0.2)
    print(f"slow_clients_all_closed: {time.monotonic() - start:.1f} s after the first "
          f"was opened (server holds {server_connections(port)})")
    for s in held:
        s.close()


def ws_frame(text):
    """A masked client text frame."""
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    n = len(payload)
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


class Reader:
    def __init__(self, sock, rest):
        self.sock, self.buf = sock, rest

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        b0, b1 = self.need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.need(8))[0]
        return b0 & 0x0F, self.need(n)


def stuck_reader(port, token, timeout_s):
    """A session that sends large messages and reads nothing: how long the
    server keeps its socket after the client stopped reading."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /api/v1/ws HTTP/1.1\r\nHost: probe\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: confab.v1, {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    head, rest = head.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode())
    reader = Reader(s, rest)
    s.sendall(ws_frame(json.dumps({"type": "conversation.create", "id": "c",
                                   "data": {"name": "probe"}})))
    group = None
    while group is None:
        opcode, payload = reader.frame()
        if opcode == 1:
            frame = json.loads(payload)
            if frame.get("id") == "c":
                group = frame["data"]["id"]
    client_port = s.getsockname()[1]
    body = "x" * 3900
    stopped = time.monotonic()  # from here on the client reads nothing
    s.setblocking(False)
    sent = 0
    for i in range(20000):
        frame = ws_frame(json.dumps({"type": "message.send", "id": str(i),
                                     "data": {"conversation": group, "body": body}}))
        try:
            s.send(frame)
            sent += 1
        except BlockingIOError:
            break
        except OSError:
            break
    def held():
        out = subprocess.run(
            ["ss", "-Htn", f"( sport = :{port} and dport = :{client_port} )"],
            capture_output=True, text=True, check=True).stdout
        return any("ESTAB" in line for line in out.splitlines())
    while held() and time.monotonic() - stopped < 600:
        time.sleep(0.1)
    kept = time.monotonic() - stopped
    print(f"stuck_reader: {sent} requests sent, then no reads")
    print(f"stuck_reader_socket_kept: {kept:.1f} s after the client stopped reading "
          f"(ws_write_timeout_s = {timeout_s}; {'met' if kept <= timeout_s + 5 else 'NOT met'}"
          f": closed within the write timeout plus the time to fill the buffers)")
    s.close()


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "slow-clients":
        slow_clients(int(args[0]), int(args[1]), int(args[2]), int(args[3]))
    elif command == "stuck-reader":
        stuck_reader(int(args[0]), args[1], int(args[2]))
    else:
        sys.exit(f"unknown probe {command}")
