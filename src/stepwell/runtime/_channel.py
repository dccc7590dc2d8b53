"""Length-prefixed pickled messages over a socket, optionally carrying file descriptors."""

from __future__ import annotations

import pickle
import socket
import struct
from collections.abc import Iterator, Sequence
from typing import Any

_LEN = struct.Struct("<Q")


def send_message(sock: socket.socket, message: Any, fds: Sequence[int] = ()) -> None:
    """Send one message; ``fds`` travel with its length header (SCM_RIGHTS)."""
    body = pickle.dumps(message, protocol=5)
    data = _LEN.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):  # one system call in the usual case; the rest, if any, after
        sock.sendall(memoryview(data)[sent:])


def _recv_exact(sock: socket.socket, size: int, prefix: bytes = b"") -> bytes | None:
    chunks = [prefix]
    remaining = size - len(prefix)
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_message(sock: socket.socket, max_fds: int = 0) -> tuple[Any, list[int]] | None:
    """Blocking read of one message and its fds; None at end of stream."""
    fds: list[int] = []
    if max_fds:
        data, fds, _flags, _addr = socket.recv_fds(sock, _LEN.size, max_fds)
        if not data:
            return None
        header = _recv_exact(sock, _LEN.size, data)
    else:
        header = _recv_exact(sock, _LEN.size)
    if header is None:
        return None
    body = _recv_exact(sock, _LEN.unpack(header)[0])
    if body is None:
        return None
    return pickle.loads(body), fds


class MessageReader:
    """Non-blocking side: feed it bytes as they arrive, iterate complete messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[Any]:
        self._buffer += data
        while len(self._buffer) >= _LEN.size:
            (size,) = _LEN.unpack_from(self._buffer)
            end = _LEN.size + size
            if len(self._buffer) < end:
                break
            message = pickle.loads(self._buffer[_LEN.size : end])
            del self._buffer[:end]
            yield message
