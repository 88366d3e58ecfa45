"""What crosses from a worker back to the grader, in a form decoded without trusting it.

A message is a JSON header followed by raw tensor buffers. The header describes the
value as a tree of plain nodes (tensor, none, bool, int, float, str, tuple, list, dict,
other); each tensor node names its dtype, shape and the byte range of its buffer.
`decode` checks every size, dtype and offset against fixed limits before it allocates
anything, and never unpickles: whatever the worker sends, the grader gets plain Python
values and plain tensors, or a WireError.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import torch

MAX_MESSAGE = 512 * 2**20  # bytes in one message
MAX_HEADER = 8 * 2**20
MAX_TENSOR_ELEMENTS = 2**26
MAX_DIMS = 8
MAX_DEPTH = 8
MAX_ITEMS = 4096  # entries of one tuple, list or dict
MAX_TEXT = 100_000  # characters of one string

DTYPES = {
    str(dtype).removeprefix("torch."): dtype
    for dtype in (
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.bool,
    )
}

_LENGTH = struct.Struct("<Q")
IOV_MAX = 1024  # buffers one sendmsg takes (Linux's UIO_MAXIOV)


class WireError(ValueError):
    """A message that does not follow the format or breaks a limit."""


class TooLarge(WireError):
    """A frame longer than the reader takes: refused before it is read."""

    def __init__(self, length: int, limit: int):
        super().__init__(f"frame of {length} bytes, more than {limit}")
        self.length, self.limit = length, limit


def encode(header: dict[str, Any], value: Any) -> bytes:
    """`header` (plain JSON data) with `value` described in it as header["value"]."""
    return b"".join(message(header, value))


def send(sock: Any, header: dict[str, Any], value: Any, prefix: bytes = b"") -> None:
    """Send one message as a frame, after `prefix` (a request's nonce), its tensors'
    bytes straight from their memory: a message of any size costs its sender no copy
    (the reader may refuse it unread)."""
    chunks = [prefix, *message(header, value)] if prefix else message(header, value)
    send_all(sock, [_LENGTH.pack(sum(len(chunk) for chunk in chunks)), *chunks])


def send_all(sock: Any, chunks: list[bytes | memoryview]) -> None:
    """Send the chunks as one stream, in as few system calls as the socket takes (one
    when they fit its buffer): each call wakes the reader, and a message sent a chunk at
    a time cost both sides a wake-up per tensor."""
    views = [memoryview(chunk).cast("B") for chunk in chunks if len(chunk)]
    while views:
        sent = sock.sendmsg(views[:IOV_MAX])
        while sent:
            if sent < len(views[0]):
                views[0], sent = views[0][sent:], 0
            else:
                sent -= len(views.pop(0))


def message(header: dict[str, Any], value: Any) -> list[bytes | memoryview]:
    """The chunks of one message: its length field and header, then each tensor's bytes
    as a view of the tensor's own memory."""
    buffers: list[bytes | memoryview] = []
    offset = [0]

    def node(v: Any, depth: int) -> dict[str, Any]:
        if isinstance(v, torch.Tensor):
            t = v.detach().cpu()
            t = t.to_dense() if t.layout != torch.strided else t
            name = str(t.dtype).removeprefix("torch.")
            if name not in DTYPES:
                return {"t": "other", "type": f"tensor of dtype {name}"}
            shape = list(t.shape)
            if t.dtype == torch.bfloat16:  # numpy has no bfloat16: send its bytes
                t = t.contiguous().reshape(-1).view(torch.uint8)
            data = memoryview(t.contiguous().numpy()).cast("B") if t.numel() else b""  # type: ignore[arg-type]  # numpy's stubs: no Buffer before 3.12
            buffers.append(data)
            offset[0] += len(data)
            return {"t": "tensor", "dtype": name, "shape": shape, "start": offset[0] - len(data), "size": len(data)}
        if v is None:
            return {"t": "none"}
        if type(v) in (bool, int, float, str):
            return {"t": type(v).__name__, "v": v[:MAX_TEXT] if isinstance(v, str) else v}
        if isinstance(v, dict) and depth < MAX_DEPTH:
            return {"t": "dict", "items": [[str(k), node(x, depth + 1)] for k, x in list(v.items())[:MAX_ITEMS]]}
        if isinstance(v, (tuple, list)) and depth < MAX_DEPTH:
            kind = "tuple" if isinstance(v, tuple) else "list"
            return {"t": kind, "items": [node(x, depth + 1) for x in list(v)[:MAX_ITEMS]]}
        return {"t": "other", "type": type(v).__name__}

    text = json.dumps({**header, "value": node(value, 0)}, allow_nan=True).encode()
    return [_LENGTH.pack(len(text)) + text, *buffers]


def decode(message: bytes) -> dict[str, Any]:
    """The header, with header["value"] rebuilt from plain nodes and checked buffers."""
    if len(message) > MAX_MESSAGE:
        raise WireError(f"message of {len(message)} bytes, more than {MAX_MESSAGE}")
    if len(message) < _LENGTH.size:
        raise WireError("message shorter than its length field")
    (length,) = _LENGTH.unpack_from(message)
    if length > MAX_HEADER or _LENGTH.size + length > len(message):
        raise WireError(f"header of {length} bytes does not fit")
    try:
        header = json.loads(message[_LENGTH.size : _LENGTH.size + length])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    # One writable copy of all buffers, which the tensors view (a student may write to them).
    buffers = memoryview(bytearray(memoryview(message)[_LENGTH.size + length :]))
    header["value"] = _value(header.get("value"), buffers, 0)
    return header


def _value(node: Any, buffers: memoryview, depth: int) -> Any:
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        raise WireError("malformed value node")
    kind = node.get("t")
    if kind == "tensor":
        return _tensor(node, buffers)
    if kind == "none":
        return None
    if kind in ("bool", "int", "float", "str"):
        v = node.get("v")
        accepted: dict[str, type | tuple[type, ...]] = {"bool": bool, "int": int, "float": (float, int), "str": str}
        expected = accepted[kind]
        if not isinstance(v, expected) or (kind == "int" and isinstance(v, bool)):
            raise WireError(f"malformed {kind} node")
        return v[:MAX_TEXT] if isinstance(v, str) else v
    if kind in ("tuple", "list", "dict"):
        items = node.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError(f"malformed {kind} node")
        if kind == "dict":
            if not all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in items):
                raise WireError("malformed dict node")
            return {k[:MAX_TEXT]: _value(v, buffers, depth + 1) for k, v in items}
        values = [_value(v, buffers, depth + 1) for v in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "other":
        return opaque(str(node.get("type", "object")))
    raise WireError(f"unknown value node {str(kind)[:40]!r}")


def _tensor(node: dict[str, Any], buffers: memoryview) -> torch.Tensor:
    dtype, shape, start, size = (node.get(k) for k in ("dtype", "shape", "start", "size"))
    if dtype not in DTYPES:
        raise WireError(f"tensor dtype {str(dtype)[:40]!r} is not allowed")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(type(d) is int and d >= 0 for d in shape):
        raise WireError("malformed tensor shape")
    numel = 1
    for d in shape:
        numel *= d
    if numel > MAX_TENSOR_ELEMENTS:
        raise WireError(f"tensor of {numel} elements, more than {MAX_TENSOR_ELEMENTS}")
    itemsize = torch.empty((), dtype=DTYPES[dtype]).element_size()
    if type(start) is not int or type(size) is not int or start < 0 or size != numel * itemsize:
        raise WireError("tensor buffer does not match its shape")
    if start + size > len(buffers):
        raise WireError("tensor buffer runs past the message")
    if numel == 0:
        return torch.empty(shape, dtype=DTYPES[dtype])
    return torch.frombuffer(buffers, dtype=DTYPES[dtype], offset=start, count=numel).reshape(shape)


def opaque(type_name: str) -> object:
    """A stand-in for a value of a type the grader does not take, whose type carries the
    original's name (so that messages can say "got a value of type ndarray")."""
    name = re.sub(r"\W", "_", type_name)[:60] or "object"
    return type(name if name.isidentifier() else f"_{name}", (), {"__repr__": lambda self: f"<{type_name[:60]}>"})()


def frame(payload: bytes) -> bytes:
    """A length-prefixed frame for a stream socket."""
    return _LENGTH.pack(len(payload)) + payload


def read_frame(read: Any, limit: int = MAX_MESSAGE) -> bytes | None:
    """One frame from `read(n)` (which returns up to n bytes, b"" at the end); None when
    the stream ends before a frame starts."""
    head = _read_exactly(read, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    if length > limit:
        raise TooLarge(length, limit)
    body = _read_exactly(read, length)
    if body is None:
        raise WireError("stream ended inside a frame")
    return body


def _read_exactly(read: Any, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = read(min(n - got, 2**20))
        if not chunk:
            if got == 0:
                return None
            raise WireError("stream ended inside a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
