"""Repeatable noise for onnxruntime models that sample it: piper's voices.

A piper (VITS) voice draws noise twice per sentence, through two RandomNormalLike nodes: once for
the durations (noise_w), once for the sound (noise_scale). onnxruntime's random kernels keep a
generator that is seeded when the session is made and then runs on from call to call, so what a
sentence sounds like depends on what its session spoke before: which worker got it, in what order.
Neither `set_seed` nor the nodes' `seed` attribute helps, as both only fix where that run starts.

`SeededSession` rewrites the graph as the model loads, so that each RandomNormalLike reads its
samples from a hidden graph input instead, and fills that input from numpy's PCG64 seeded by a hash
of the run's own feeds (phoneme ids, lengths, scales, speaker) and a base seed. The same sentence
with the same settings then gets the same noise whatever ran before, in any process, on any
machine. Fed the samples onnxruntime would have drawn, the rewritten graph gives bit for bit what
the original gives.

The rewrite edits the protobuf wire format directly, so it needs neither the `onnx` package nor
generated classes: it touches the top-level graph's node list, inputs, outputs and initializers,
and copies every other byte of the model (the weights) unchanged. Each `Y = RandomNormalLike(X)`
becomes

    size = Size(X)                   a hidden graph output: how many samples the node took
    n    = Reshape(size, [1])
    flat = Slice(NOISE, [0], n)      NOISE: a hidden 1-D float32 graph input
    Y    = Reshape(flat, Shape(X))   then Cast (or CastLike) to the node's dtype

How many samples a node takes is known only while the graph runs (piper's second noise has a column
per audio frame, so it follows the predicted durations). A run is fed buffers sized from the most
samples per feed element seen so far; sample i of a node's stream does not depend on the buffer's
length, so a run whose buffer was too short (it fails in that last Reshape) is run again with a
longer one and gives the same result.

Only what piper's voices hold is supported: RandomNormalLike in the main graph. Any other random op,
or a random op inside an If/Loop/Scan body or a model-local function, is refused with an
EngineError when the model loads, rather than left unseeded.

Changing how samples are drawn (the hash, the generator) changes piper's audio: bump
podcast.tts.piper.PiperEngine.cache_tag with it, so no cached sentence mixes the two.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from podcast.errors import EngineError

if TYPE_CHECKING:
    import onnxruntime

PREFIX = "seeded_noise/"
"""Every name the rewrite adds to a graph starts with this."""
SEEDED_OP = "RandomNormalLike"
OTHER_RANDOM_OPS = frozenset(
    {"RandomNormal", "RandomUniform", "RandomUniformLike", "Multinomial", "Bernoulli"}
)
"""Random ops piper's voices do not use: a model holding one is refused, not run half seeded."""
_ONLY = f"papercast can make only {SEEDED_OP} in a model's main graph repeatable"
ONNX_DOMAINS = ("", "ai.onnx")
GUESS = 4096.0
"""Samples per feed element a node is given before a run has shown how many it takes (the joe voice
takes about 530 per phoneme id for the sound, 2 for the durations; more when it speaks slower)."""
MARGIN = 1.5
"""Buffers are this much longer than the most samples per feed element seen: sentences vary."""
RETRIES = 5
"""Runs again with 4x longer buffers at most this many times."""

# Field numbers from onnx.proto, for the messages this module reads or writes.
_MODEL_GRAPH, _MODEL_OPSET, _MODEL_FUNCTIONS, _FUNCTION_NODE = 7, 8, 25, 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 1, 5, 11, 12
_NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP, _NODE_ATTRIBUTE, _NODE_DOMAIN = 1, 2, 3, 4, 5, 7
_ATTR_NAME, _ATTR_FLOAT, _ATTR_INT, _ATTR_GRAPH, _ATTR_GRAPHS, _ATTR_TYPE = 1, 2, 3, 6, 11, 20
_FLOAT, _INT64 = 1, 7
"""TensorProto data types."""
_ONE, _ZERO = f"{PREFIX}one", f"{PREFIX}zero"
_TOO_SHORT = re.compile(re.escape(PREFIX) + r"\d+/Reshape\b")


# -- the protobuf wire format, as far as ONNX models need it ------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int64 is sent as its two's complement
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, Any, int, int]]:
    """(field number, value, start, end) of each field of a message. A length-delimited value is a
    memoryview (no copy: a model's weights are most of its bytes), a varint an int, a fixed-size
    value its bytes."""
    pos, end = 0, len(buf)
    value: Any
    while pos < end:
        start = pos
        key, pos = _read_varint(buf, pos)
        wire = key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = bytes(buf[pos : pos + size]), pos + size
        else:
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("a field runs past the end of its message")
        yield key >> 3, value, start, pos


def _ld(number: int, payload: bytes | memoryview) -> bytes:
    """A length-delimited field (a string or a message)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + bytes(payload)


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _str(number: int, text: str) -> bytes:
    return _ld(number, text.encode())


def _text(value: memoryview) -> str:
    return bytes(value).decode()


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


# -- ONNX messages ----------------------------------------------------------------------------------


@dataclass
class _Node:
    op: str = ""
    domain: str = ""
    name: str = ""
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    attrs: dict[str, float | int] = field(default_factory=dict)
    """Attributes with a float or int value; others are absent (no op rewritten here has any)."""
    bodies: list[memoryview] = field(default_factory=list)
    """Graphs held in attributes: the bodies of If, Loop and Scan."""

    @classmethod
    def parse(cls, buf: memoryview) -> _Node:
        node = cls()
        for number, value, _, _ in _fields(buf):
            if number == _NODE_OP:
                node.op = _text(value)
            elif number == _NODE_DOMAIN:
                node.domain = _text(value)
            elif number == _NODE_NAME:
                node.name = _text(value)
            elif number == _NODE_INPUT:
                node.inputs.append(_text(value))
            elif number == _NODE_OUTPUT:
                node.outputs.append(_text(value))
            elif number == _NODE_ATTRIBUTE:
                node._attribute(value)
        return node

    def _attribute(self, buf: memoryview) -> None:
        name, value = "", None
        for number, got, _, _ in _fields(buf):
            if number == _ATTR_NAME:
                name = _text(got)
            elif number == _ATTR_FLOAT:
                value = struct.unpack("<f", got)[0]
            elif number == _ATTR_INT:
                value = _signed(got)
            elif number in (_ATTR_GRAPH, _ATTR_GRAPHS):
                self.bodies.append(got)
        if value is not None:
            self.attrs[name] = value

    @property
    def random(self) -> bool:
        return self.domain in ONNX_DOMAINS and (self.op == SEEDED_OP or self.op in OTHER_RANDOM_OPS)


def _node(op: str, inputs: Sequence[str], outputs: Sequence[str], name: str, attrs: bytes = b"") -> bytes:
    """A NodeProto of the default domain; `attrs`: its attribute fields, e.g. from _int_attr."""
    body = b"".join(_str(_NODE_INPUT, i) for i in inputs) + b"".join(_str(_NODE_OUTPUT, o) for o in outputs)
    return body + _str(_NODE_NAME, name) + _str(_NODE_OP, op) + attrs


def _int_attr(name: str, value: int) -> bytes:
    """A node's attribute field holding an int: AttributeProto{name, i, type = INT (2)}."""
    return _ld(_NODE_ATTRIBUTE, _str(_ATTR_NAME, name) + _int(_ATTR_INT, value) + _int(_ATTR_TYPE, 2))


def _value_info(name: str, elem_type: int, dims: Sequence[int | str]) -> bytes:
    """A ValueInfoProto of a tensor: dims are sizes, or names of sizes known only at run time."""
    shape = b"".join(_ld(1, _int(1, d) if isinstance(d, int) else _str(2, d)) for d in dims)
    tensor = _int(1, elem_type) + _ld(2, shape)  # TypeProto.Tensor{elem_type, shape}
    return _str(1, name) + _ld(2, _ld(1, tensor))  # ValueInfoProto{name, type: TypeProto{tensor_type}}


def _int64_initializer(name: str, values: Sequence[int]) -> bytes:
    """A TensorProto{dims, data_type, name, raw_data} of int64 values, as a graph initializer."""
    raw = struct.pack(f"<{len(values)}q", *values)
    return _ld(_GRAPH_INITIALIZER, _int(1, len(values)) + _int(2, _INT64) + _str(8, name) + _ld(9, raw))


def _refuse_random_inside(graph: memoryview, where: str) -> None:
    """EngineError when `graph` (a body or a function) or anything nested in it has a random op."""
    for number, value, _, _ in _fields(graph):
        if number != _GRAPH_NODE:
            continue
        node = _Node.parse(value)
        if node.random:
            raise EngineError(f"the model has a {node.op} node ({node.name!r}) inside {where}: {_ONLY}")
        for body in node.bodies:
            _refuse_random_inside(body, f"the body of {node.op} node {node.name!r}")


# -- the rewrite ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Noise:
    """One RandomNormalLike node, as the rewritten graph takes its samples."""

    node: str
    """The original node's name."""
    input: str
    """The hidden graph input that carries its samples (1-D float32, at least as many as it takes)."""
    size: str
    """The hidden graph output that says how many samples it took."""
    mean: float
    scale: float
    """The node's mean and scale (0 and 1 unless it says otherwise)."""


def rewrite(model: bytes) -> tuple[bytes, tuple[Noise, ...]]:
    """The model with each RandomNormalLike fed from a hidden input, and those inputs; a model without
    random ops comes back unchanged. EngineError when the model cannot be read or has a random op
    that is not supported."""
    try:
        return _rewrite(memoryview(model))
    except (IndexError, ValueError, UnicodeDecodeError, struct.error) as e:
        raise EngineError(f"not an ONNX model: its bytes do not parse ({e})") from None


def _rewrite(buf: memoryview) -> tuple[bytes, tuple[Noise, ...]]:
    opset, graph, span = 0, None, (0, 0)
    for number, value, start, end in _fields(buf):
        if number == _MODEL_OPSET:  # OperatorSetIdProto{domain, version}
            ids = {n: v for n, v, _, _ in _fields(value)}
            if (_text(ids[1]) if 1 in ids else "") in ONNX_DOMAINS:
                opset = int(ids.get(2, 0))
        elif number == _MODEL_GRAPH:
            graph, span = value, (start, end)
        elif number == _MODEL_FUNCTIONS:  # FunctionProto: its nodes are field 7, not 1
            nodes = b"".join(_ld(_GRAPH_NODE, v) for n, v, _, _ in _fields(value) if n == _FUNCTION_NODE)
            _refuse_random_inside(memoryview(nodes), "a model-local function")
    if graph is None:
        raise ValueError("no graph")
    pieces, noises = _rewrite_graph(graph, opset)
    if not noises:
        return bytes(buf), ()
    # One join of views: the weights are copied once, not once per level of nesting.
    header = _varint(_MODEL_GRAPH << 3 | 2) + _varint(sum(len(p) for p in pieces))
    return b"".join([buf[: span[0]], header, *pieces, buf[span[1] :]]), noises


def _rewrite_graph(graph: memoryview, opset: int) -> tuple[list[bytes | memoryview], tuple[Noise, ...]]:
    """The pieces of the graph with every RandomNormalLike replaced in place (nodes stay in topological
    order), the noise inputs and size outputs added after the existing ones, and the two constants
    they use."""
    pieces: list[bytes | memoryview] = []
    inputs: list[bytes] = []
    outputs: list[bytes] = []
    noises: list[Noise] = []
    copied_to = 0
    for number, value, start, end in _fields(graph):
        if number != _GRAPH_NODE:
            continue
        node = _Node.parse(value)
        for body in node.bodies:
            _refuse_random_inside(body, f"the body of {node.op} node {node.name!r}")
        if not node.random:
            continue
        if node.op != SEEDED_OP:
            raise EngineError(f"the model has a {node.op} node ({node.name!r}): {_ONLY}")
        tag = f"{PREFIX}{len(noises)}"
        noise = Noise(
            node.name,
            f"{tag}/noise",
            f"{tag}/size",
            float(node.attrs.get("mean", 0.0)),
            float(node.attrs.get("scale", 1.0)),
        )
        pieces += [graph[copied_to:start], *_replacement(node, tag, noise, opset)]
        copied_to = end
        inputs.append(_ld(_GRAPH_INPUT, _value_info(noise.input, _FLOAT, [f"{tag}/length"])))
        outputs.append(_ld(_GRAPH_OUTPUT, _value_info(noise.size, _INT64, [])))
        noises.append(noise)
    if not noises:
        return [], ()
    pieces += [graph[copied_to:], _int64_initializer(_ONE, [1]), _int64_initializer(_ZERO, [0])]
    return [*pieces, *inputs, *outputs], tuple(noises)


def _replacement(node: _Node, tag: str, noise: Noise, opset: int) -> list[bytes]:
    """The node fields that give `node`'s output from the noise input (see the module's docstring)."""
    dtype = node.attrs.get("dtype")
    if opset < 10 or (dtype is None and opset < 15):  # Slice with inputs: 10; CastLike: 15
        raise EngineError(f"the model's opset {opset} is too old to seed its {node.op} node {node.name!r}")
    x, y = node.inputs[0], node.outputs[0]
    shaped = y if dtype == _FLOAT else f"{tag}/float"
    nodes = [
        _node("Size", [x], [noise.size], f"{tag}/Size"),
        _node("Reshape", [noise.size, _ONE], [f"{tag}/n"], f"{tag}/Reshape_n"),
        _node("Slice", [noise.input, _ZERO, f"{tag}/n"], [f"{tag}/flat"], f"{tag}/Slice"),
        _node("Shape", [x], [f"{tag}/shape"], f"{tag}/Shape"),
        _node("Reshape", [f"{tag}/flat", f"{tag}/shape"], [shaped], f"{tag}/Reshape"),
    ]
    if dtype is None:  # the spec's default: the input's type
        nodes.append(_node("CastLike", [shaped, x], [y], f"{tag}/CastLike"))
    elif dtype != _FLOAT:
        nodes.append(_node("Cast", [shaped], [y], f"{tag}/Cast", _int_attr("to", int(dtype))))
    return [_ld(_GRAPH_NODE, n) for n in nodes]


# -- the session ------------------------------------------------------------------------------------


def feeds_digest(feeds: Mapping[str, Any], base_seed: int = 0) -> bytes:
    """A hash of a run's feeds (names, types, shapes, values) and a base seed: the same in every
    process and on every machine (unlike hash(), which Python salts per process)."""
    h = hashlib.blake2b(digest_size=16, person=b"papercast-noise")
    h.update(struct.pack("<q", base_seed))
    for name in sorted(feeds):
        a = np.ascontiguousarray(feeds[name])
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.digest()


def samples(digest: bytes, k: int, n: int, noise: Noise) -> np.ndarray:
    """The first n samples of the k-th noise node's stream for a run whose feeds hash to `digest`.

    Each node has a stream of its own (spawn_key), so one node's samples never depend on how many
    another takes; sample i never depends on n, so a longer buffer only adds samples at the end.
    """
    seq = np.random.SeedSequence(int.from_bytes(digest, "little"), spawn_key=(k,))
    x = np.random.Generator(np.random.PCG64(seq)).standard_normal(n, dtype=np.float32)
    if noise.mean != 0.0 or noise.scale != 1.0:
        x = x * np.float32(noise.scale) + np.float32(noise.mean)
    return x


class SeededSession:
    """An onnxruntime session whose runs depend only on their feeds and `base_seed`.

    It shows the model's own inputs and outputs (the hidden ones are its business) and runs like
    InferenceSession.run, which is all piper's PiperVoice calls.
    """

    def __init__(
        self,
        model: str | Path | bytes,
        sess_options: onnxruntime.SessionOptions | None = None,
        *,
        base_seed: int = 0,
        guess: float = GUESS,
    ) -> None:
        """Load and rewrite the model (about 0.2 s for a piper voice on top of onnxruntime's own
        load). `guess`: samples per feed element before a run has shown the real number."""
        import onnxruntime

        data = model if isinstance(model, bytes) else Path(model).read_bytes()
        rewritten, self.noises = rewrite(data)
        self.base_seed = base_seed
        self.retries = 0
        """Runs repeated because a buffer was too short (tests read it)."""
        self._session = onnxruntime.InferenceSession(
            rewritten, sess_options=sess_options, providers=["CPUExecutionProvider"]
        )
        hidden = {n.input for n in self.noises} | {n.size for n in self.noises}
        self._inputs = [i for i in self._session.get_inputs() if i.name not in hidden]
        self._outputs = [o for o in self._session.get_outputs() if o.name not in hidden]
        self._guess = guess
        self._most: dict[str, float] = {}
        """The most samples per feed element each noise node has taken."""
        # A too-short buffer is an expected failure, retried: keep onnxruntime from logging it.
        self._quiet = onnxruntime.RunOptions()
        self._quiet.log_severity_level = 4

    def get_inputs(self) -> list[Any]:
        return list(self._inputs)

    def get_outputs(self) -> list[Any]:
        return list(self._outputs)

    def run(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        run_options: onnxruntime.RunOptions | None = None,
    ) -> list[Any]:
        if not self.noises:
            return self._session.run(output_names, dict(input_feed), run_options)
        feeds = dict(input_feed)
        digest = feeds_digest(feeds, self.base_seed)
        names = list(output_names or [o.name for o in self._outputs])
        elements = max(1, sum(np.asarray(v).size for v in feeds.values()))
        lengths = [int(self._most.get(n.input, self._guess) * elements * MARGIN) + 256 for n in self.noises]
        for attempt in range(RETRIES + 1):
            for k, noise in enumerate(self.noises):
                feeds[noise.input] = samples(digest, k, lengths[k], noise)
            try:
                results = self._session.run(
                    names + [n.size for n in self.noises], feeds, run_options or self._quiet
                )
                break
            except Exception as e:  # onnxruntime's errors have no useful types
                if attempt == RETRIES or not _TOO_SHORT.search(str(e)):
                    raise
                self.retries += 1
                lengths = [4 * n for n in lengths]
        for noise, size in zip(self.noises, results[len(names) :], strict=True):
            self._most[noise.input] = max(self._most.get(noise.input, 0.0), int(size) / elements)
        return results[: len(names)]
