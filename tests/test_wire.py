"""The wire format: values cross from a worker intact, and a hostile message is refused
before anything big is allocated."""

import io
import json
import struct

import numpy as np
import pytest
import torch

from grader.sandbox import wire


def roundtrip(value):
    return wire.decode(wire.encode({"extra": 1}, value))


def test_tensors_of_every_allowed_dtype_and_shape_come_back_equal():
    values = [
        torch.randn(3, 4),
        torch.randn(2, 2).double(),
        torch.randn(5).half(),
        torch.randn(2, 3).bfloat16(),
        torch.arange(6).view(2, 3),
        torch.tensor(True),
        torch.zeros(0, 4),
        torch.randn(4, 3).T,
        torch.tensor(2.5),
    ]
    back = roundtrip(values)["value"]
    for a, b in zip(values, back):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


def test_containers_and_scalars_keep_their_kind_and_other_types_keep_their_name():
    back = roundtrip({"t": (1, 2.5, "s", None, True), "l": [torch.ones(1)], "n": np.zeros(2)})
    assert back["extra"] == 1
    value = back["value"]
    assert value["t"] == (1, 2.5, "s", None, True) and isinstance(value["l"], list)
    assert type(value["n"]).__name__ == "ndarray" and not isinstance(value["n"], np.ndarray)


def test_decoded_tensors_are_writable_and_do_not_share_memory_with_each_other():
    a, b = roundtrip((torch.zeros(3), torch.zeros(3)))["value"]
    a += 1
    assert torch.equal(b, torch.zeros(3))


def message(header, buffers=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + buffers


@pytest.mark.parametrize(
    "node, problem",
    [
        ({"t": "tensor", "dtype": "float32", "shape": [2**20, 2**20], "start": 0, "size": 4}, "elements"),
        ({"t": "tensor", "dtype": "object", "shape": [1], "start": 0, "size": 8}, "not allowed"),
        ({"t": "tensor", "dtype": "float32", "shape": [4], "start": 0, "size": 16}, "runs past"),
        ({"t": "tensor", "dtype": "float32", "shape": [4], "start": 0, "size": 12}, "does not match"),
        ({"t": "tensor", "dtype": "float32", "shape": [-1], "start": 0, "size": 4}, "shape"),
        ({"t": "tensor", "dtype": "float32", "shape": [1] * 9, "start": 0, "size": 4}, "shape"),
        ({"t": "pickle", "v": "cos\nsystem\n"}, "unknown value node"),
        ({"t": "int", "v": "1"}, "malformed int"),
        ({"t": "dict", "items": [[1, {"t": "none"}]]}, "malformed dict"),
    ],
)
def test_a_malformed_or_oversized_node_is_refused(node, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(message({"value": node}))


def test_a_header_longer_than_the_message_or_not_json_is_refused():
    with pytest.raises(wire.WireError, match="does not fit"):
        wire.decode(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode(struct.pack("<Q", 3) + b"{x}")


def test_nesting_deeper_than_the_limit_is_refused():
    node = {"t": "none"}
    for _ in range(wire.MAX_DEPTH + 2):
        node = {"t": "list", "items": [node]}
    with pytest.raises(wire.WireError):
        wire.decode(message({"value": node}))


def test_a_frame_longer_than_the_limit_is_refused_before_it_is_read():
    with pytest.raises(wire.WireError, match="more than"):
        wire.read_frame(io.BytesIO(struct.pack("<Q", 2**40)).read)


def test_the_end_of_a_stream_between_frames_is_none_and_inside_one_an_error():
    assert wire.read_frame(lambda n: b"") is None
    with pytest.raises(wire.WireError, match="inside a frame"):
        wire.read_frame(io.BytesIO(wire.frame(b"abcdef")[:10]).read)
    assert wire.read_frame(io.BytesIO(wire.frame(b"abcdef")).read) == b"abcdef"
