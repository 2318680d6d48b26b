"""A minimal WebSocket client (RFC 6455) over a plain socket: the handshake, masked client
frames, unmasked server frames. Just enough to play a hostile realtime client; the standard
library has no WebSocket client."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"handshake answered {status}: {body[:200]}")
        self.status = status
        self.body = body


class Closed(Exception):
    def __init__(self, code: Optional[int], reason: str = "") -> None:
        super().__init__(f"closed by the server with {code} {reason}".strip())
        self.code = code


class WebSocket:
    def __init__(self, host: str, port: int, *, key: str = "", token: str = "",
                 timeout: float = 10.0) -> None:
        protos = [f"aerostack-key.{quote(key, safe='')}"] if key else []
        if token:
            protos.append(f"aerostack-token.{quote(token, safe='')}")
        protos.append("aerostack-v1")
        nonce = base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection((host, port), timeout=timeout)
        req = (f"GET /api/realtime HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {', '.join(protos)}\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise HandshakeRefused(0, head.decode(errors="replace"))
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            body = self.buf
            self.sock.settimeout(2)
            try:
                body += self.sock.recv(65536)
            except OSError:
                pass
            self.sock.close()
            raise HandshakeRefused(status, body.decode(errors="replace"))

    def send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        # XOR the payload with the repeated mask, as an integer (fast for 1 MiB frames)
        rep = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(rep, "big")).to_bytes(n, "big")
        self.sock.sendall(header + mask + masked)

    def send(self, frame: Dict[str, Any]) -> None:
        self.send_frame(TEXT, json.dumps(frame).encode())

    def _parse(self) -> Optional[Tuple[int, bytes]]:
        """One whole frame from the buffer, or None while it is incomplete (nothing is consumed
        until the frame is whole, so a timeout mid-frame loses nothing)."""
        b = self.buf
        if len(b) < 2:
            return None
        n, at = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < at + n:
            return None
        self.buf = b[at + n:]
        return b[0] & 0x0F, b[at:at + n]

    def recv_frame(self) -> Tuple[int, bytes]:
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(None, "(connection ended without a close frame)")
            self.buf += chunk

    def recv(self, timeout: float = 5.0) -> Dict[str, Any]:
        """The next JSON frame; answers pings; raises Closed on a close frame, socket.timeout
        when nothing came in time."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            op, payload = self.recv_frame()
            if op == TEXT:
                return json.loads(payload)
            if op == PING:
                self.send_frame(PONG, payload)
            elif op == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode(errors="replace"))

    def wait_for(self, pred, timeout: float = 5.0) -> Dict[str, Any]:
        """The first frame for which `pred` holds (others are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no matching frame")
            frame = self.recv(left)
            if pred(frame):
                return frame

    def drain(self, timeout: float = 0.3) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        try:
            while True:
                out.append(self.recv(timeout))
        except (socket.timeout, TimeoutError):
            return out

    def close(self) -> None:
        try:
            self.send_frame(CLOSE, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()
