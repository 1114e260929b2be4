"""The summarizer registry, the summarize stage, and the offline extractive engine on real abstracts."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from podcast.errors import ConfigError, EngineError, InputError
from podcast.models import Paper
from podcast.summarize import Summarizer, SummarizerSettings, get, names, register, summarize_papers
from podcast.summarize.extractive import ExtractiveSummarizer

ROOT = Path(__file__).resolve().parents[2]

# Three abstracts paraphrased from well-known papers, written the way arXiv abstracts are.
TRANSFORMER = Paper(
    "1706.03762",
    "Attention Is All You Need",
    abstract=(
        "Most competitive sequence transduction models rely on recurrent or convolutional neural networks "
        "arranged as an encoder and a decoder. The strongest of these models also link the encoder and the "
        "decoder with an attention mechanism. We propose the Transformer, a simple network architecture "
        "built entirely on attention, which removes recurrence and convolution altogether. On two machine "
        "translation benchmarks the new models reach higher quality, parallelize better and need much less "
        "training time. Our model scores 28.4 BLEU on WMT 2014 English-to-German translation, beating the "
        "previous best results, ensembles included, by more than 2 BLEU. On WMT 2014 English-to-French it "
        "sets a single-model record of 41.8 BLEU after 3.5 days of training on eight GPUs, a small fraction "
        "of what the best earlier models cost. We also show that the Transformer transfers to other tasks by "
        "applying it to English constituency parsing with both large and small training sets."
    ),
)
BERT = Paper(
    "1810.04805",
    "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
    abstract=(
        "We introduce BERT, a language representation model whose name stands for Bidirectional Encoder "
        "Representations from Transformers. Unlike earlier language representation models (Peters et al., "
        "2018; Radford et al., 2018), BERT pre-trains deep bidirectional representations from unlabeled text "
        "by conditioning on both left and right context in every layer. As a result, the pre-trained model "
        "can be fine-tuned with a single additional output layer to build state-of-the-art models for many "
        "tasks, such as question answering and language inference, with no substantial task-specific changes "
        "to the architecture. BERT is simple in concept and strong in practice. It sets new state-of-the-art "
        "results on eleven natural language processing tasks, raising the GLUE score to 80.5%, MultiNLI "
        "accuracy to 86.7% and SQuAD v1.1 question answering Test F1 to 93.2 [4]."
    ),
)
RESNET = Paper(
    "1512.03385",
    "Deep Residual Learning for Image Recognition",
    abstract=(
        "Deeper neural networks are harder to train. We present a residual learning framework that makes it"
        " easier to train networks far deeper than those used before. Instead of learning unreferenced "
        "functions, we explicitly reformulate the layers as learning residual functions with respect to the"
        " layer inputs. We give thorough empirical evidence that these residual networks are easier to "
        "optimize and gain accuracy from considerably increased depth. On the ImageNet dataset we evaluate "
        "residual nets with up to 152 layers, eight times deeper than VGG nets yet still of lower "
        "complexity. An ensemble of these residual nets reaches 3.57% error on the ImageNet test set, a "
        "result that won first place in the ILSVRC 2015 classification task. We also analyze CIFAR-10 with "
        "networks of 100 and 1000 layers. The depth of representations matters for many visual recognition "
        "tasks. Thanks to our extremely deep representations alone, we obtain a 28% relative improvement on"
        " the COCO object detection dataset."
    ),
)
ABSTRACTS = [TRANSFORMER, BERT, RESNET]
FIRST_PERSON = {"we", "our", "ours", "us", "they", "their", "them", "the", "authors"}


def words(text: str) -> list[str]:
    return text.split()


def summarize(paper: Paper, n: int = 130) -> str:
    return ExtractiveSummarizer(SummarizerSettings(words=n)).summarize(paper)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text) if s]


def source_position(sentence: str, source: str) -> int:
    """Where in `source` the sentence comes from: the first 4-word run of it (avoiding the pronouns the
    engine rewrites) found in the source."""
    tokens = re.findall(r"[\w.%-]+", sentence.lower())
    flat = " ".join(re.findall(r"[\w.%-]+", source.lower()))
    for k in range(len(tokens) - 3):
        window = tokens[k : k + 4]
        if not FIRST_PERSON & set(window) and (at := flat.find(" ".join(window))) >= 0:
            return at
    raise AssertionError(f"not from the source: {sentence!r}")


# --- the extractive engine on real abstracts --------------------------------------------------------


@pytest.mark.parametrize("paper", ABSTRACTS, ids=lambda p: p.id)
@pytest.mark.parametrize("n", [40, 80, 130])
def test_length_stays_near_the_target(paper: Paper, n: int) -> None:
    text = summarize(paper, n)
    count = len(words(text))
    assert count <= n * 1.15 + 3, text
    assert count >= min(n, len(words(paper.abstract))) * 0.5, text


@pytest.mark.parametrize("paper", ABSTRACTS, ids=lambda p: p.id)
def test_sentences_keep_their_source_order(paper: Paper) -> None:
    chosen = sentences(summarize(paper, 80))
    assert len(chosen) >= 2
    positions = [source_position(s, paper.abstract) for s in chosen]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


@pytest.mark.parametrize("paper", ABSTRACTS, ids=lambda p: p.id)
def test_same_input_same_output(paper: Paper) -> None:
    engine = ExtractiveSummarizer(SummarizerSettings(words=70))
    first = engine.summarize(paper)
    assert engine.summarize(paper) == first
    assert ExtractiveSummarizer(SummarizerSettings(words=70)).summarize(paper) == first


@pytest.mark.parametrize(
    ("paper", "contribution"),
    [
        (TRANSFORMER, "propose the Transformer, a simple network architecture built entirely on attention"),
        (BERT, "introduce BERT, a language representation model"),
        (RESNET, "present a residual learning framework"),
    ],
    ids=["transformer", "bert", "resnet"],
)
def test_the_contribution_sentence_is_kept_even_when_short_of_room(paper: Paper, contribution: str) -> None:
    assert contribution in summarize(paper, 30)


def test_a_contribution_that_is_not_the_most_central_sentence_is_still_kept() -> None:
    paper = Paper(
        "x",
        "KV",
        abstract=(
            "Serving large language models is costly because large language models keep a large key-value "
            "cache for every token of every request. We propose KVQ, a four-bit quantizer."
        ),
    )
    assert summarize(paper, 12) == "The authors propose KVQ, a four-bit quantizer."


def test_first_person_is_told_in_the_third() -> None:
    text = summarize(TRANSFORMER, 130)
    assert not re.search(r"\b(?:[Ww]e|[Oo]urs?|us)\b", text)
    assert "The authors propose the Transformer" in text
    assert "Their model scores 28.4 BLEU" in text or "The authors' model scores 28.4 BLEU" in text


def test_citation_markers_are_removed() -> None:
    text = summarize(BERT, 200)
    assert "Peters" not in text and "[4]" not in text
    assert "Unlike earlier language representation models, BERT pre-trains" in text
    assert text.endswith("Test F1 to 93.2.")


def test_markdown_links_keep_their_text_and_lose_their_target() -> None:
    paper = Paper("x", "t", abstract="We extend [xLSTM](https://arxiv.org/abs/2405.04517) to vision tasks.")
    assert summarize(paper) == "The authors extend xLSTM to vision tasks."


def test_a_short_abstract_is_returned_whole() -> None:
    paper = Paper("x", "t", abstract="We study sparse attention. It halves memory use on long inputs.")
    assert summarize(paper) == "The authors study sparse attention. It halves memory use on long inputs."


# --- pathological input ---------------------------------------------------------------------------


def test_one_sentence_without_a_period() -> None:
    text = summarize(Paper("x", "t", abstract="  we train a tiny model\n"))
    assert text == "The authors train a tiny model."


def test_a_long_paragraph_without_punctuation_is_cut_on_a_word_boundary() -> None:
    vocabulary = ["attention", "tokens", "scaling", "memory", "gradient", "layers", "experts", "latency"]
    source = " ".join(vocabulary[(i * 7) % 8] + str(i) for i in range(3000))
    text = summarize(Paper("x", "t", abstract=source), 100)
    assert text.endswith(".")
    assert len(words(text)) == 100
    assert source.startswith(text[:-1] + " ")  # whole words, from the start, nothing invented


def test_a_junk_sentence_among_real_ones_does_not_crowd_them_out() -> None:
    run_on = " ".join(f"w{i}" for i in range(400))
    text = summarize(Paper("x", "t", abstract=f"{run_on}. {RESNET.abstract}"), 80)
    assert "w1 " not in text and "residual learning framework" in text


def test_text_of_only_markers_still_gives_text() -> None:
    assert summarize(Paper("x", "t", abstract="[1] [2]")) != ""
    assert summarize(Paper("x", "t", abstract="...")) == "..."


@pytest.mark.parametrize(
    "abstract",
    [
        "Wir stellen ein neues Verfahren zur Übersetzung vor. Es nutzt ausschließlich Aufmerksamkeit. "
        "Auf zwei Benchmarks übertrifft es frühere Modelle deutlich.",
        "In dit artikel stellen we een nieuwe methode voor. We trainen het model op tien talen.",
        "我们提出了一种新的网络结构。该结构完全基于注意力机制。在两个翻译任务上取得了最好的结果。",
        "本論文では新しい言語モデルを提案する。提案手法は少ない計算量で高い精度を達成した。",
    ],
    ids=["german", "dutch", "chinese", "japanese"],
)
def test_non_english_text_is_summarized_from_its_own_words(abstract: str) -> None:
    text = summarize(Paper("x", "t", abstract=abstract), 30)
    assert text
    assert "authors" not in text  # the first-person swap is for English only
    for piece in re.split(r"(?<=[.。])\s*", text):
        assert piece.rstrip(".") in abstract


def test_cjk_text_counts_characters_as_words() -> None:
    abstract = "我们提出了一种新的网络结构" * 40  # 520 characters, no punctuation at all
    text = summarize(Paper("x", "t", abstract=abstract), 50)
    assert text == abstract[:50] + "."


# --- full text ------------------------------------------------------------------------------------

FULL_TEXT = """Sparse Mixtures for Speech
Ada Lovelace1, Alan Turing2
ada@example.org
arXiv:2405.01234v1 [cs.CL] 7 May 2024
Abstract
We present SpeechMoE, a sparse mixture-of-experts model for speech recognition. Routing each
audio frame to two of sixty-four experts keeps the compute per frame constant while the model
grows. SpeechMoE reduces word error rate by 12% relative on LibriSpeech.
1 Introduction
Speech recognition models keep getting larger, and dense models pay for every parameter on
every frame [1, 2]. Sparse mixture-of-experts layers (Shazeer et al., 2017) decouple model size
from compute. We bring sparse experts to speech recognition and show that they scale.
1.1 Contributions
Our router balances the experts without an auxiliary loss.
2 Method
Table 1: Word error rates on LibriSpeech test-clean and test-other.
As shown in Figure 2, the router sends silence frames to a single expert.
3 Experiments
The model is trained for 300k steps on 960 hours of audio with a batch of 256 utterances.
4 Conclusion
Sparse experts make speech recognition models larger without making them slower.
Acknowledgments
We thank the reviewers and the Turing Institute for compute grants.
References
[1] A. Graves. Speech recognition with deep recurrent neural networks. In ICASSP, 2013.
[2] W. Chan et al. Listen, attend and spell. In ICASSP, 2016.
"""


def test_full_text_without_an_abstract_field_uses_its_sections() -> None:
    text = summarize(Paper("x", "SpeechMoE", full_text=FULL_TEXT), 60)
    assert text.startswith("The authors present SpeechMoE, a sparse mixture-of-experts model")
    for leak in ("Lovelace", "@", "arXiv", "Figure", "Table", "reviewers", "Graves", "[1", "Shazeer"):
        assert leak not in text


def test_full_text_whose_abstract_has_no_heading() -> None:
    for n in (60, 200):
        text = summarize(Paper("x", "SpeechMoE", full_text=FULL_TEXT.replace("Abstract\n", "")), n)
        assert text.startswith("The authors present SpeechMoE, a sparse mixture-of-experts model")
        assert "Lovelace" not in text and "Sparse Mixtures for Speech" not in text


def test_full_text_beside_an_abstract_does_not_repeat_it() -> None:
    abstract = FULL_TEXT.split("Abstract\n")[1].split("1 Introduction")[0]
    text = summarize(Paper("x", "SpeechMoE", abstract=abstract, full_text=FULL_TEXT), 130)
    assert text.count("SpeechMoE, a sparse") == 1
    assert "reviewers" not in text and "Graves" not in text


def test_a_sentence_the_introduction_repeats_is_said_once() -> None:
    claim = "SpeechMoE reduces word error rate by 12% relative on LibriSpeech."
    full_text = f"1 Introduction\nSpeech models grow.\n{claim}\n2 Method\nRouting is sparse.\n"
    paper = Paper("x", "SpeechMoE", abstract=f"We present SpeechMoE. {claim}", full_text=full_text)
    text = summarize(paper, 130)
    assert text.count(claim) == 1 and "The authors present SpeechMoE." in text


def synthetic_paper(pages: int = 20) -> str:
    """About 500 words a page of paper-like text with the usual section headings."""
    rng = random.Random(20)  # fixed seed: the same paper every run
    topics = ["attention", "memory", "tokens", "experts", "routing", "latency", "quantization", "cache"]
    filler = ["the", "model", "a", "new", "method", "results", "training", "we", "show", "that", "for", "on"]

    def sentence() -> str:
        picks = [rng.choice(topics if rng.random() < 0.4 else filler) for _ in range(rng.randint(12, 30))]
        return " ".join(picks).capitalize() + "."

    def paragraph(k: int) -> str:
        return " ".join(sentence() for _ in range(k))

    headings = ["Abstract", "1 Introduction", "2 Related Work", "3 Method", "4 Experiments", "5 Conclusion"]
    per_section = pages * 500 // 20 // len(headings)
    body = "\n".join(f"{h}\n{paragraph(per_section)}" for h in headings)
    references = "\n".join(f"[{i}] A. Author. Title {i}. In Proc., 2020." for i in range(60))
    return f"{body}\nReferences\n{references}"


def test_a_twenty_page_paper_fits_the_budget_without_its_references() -> None:
    # Its speed is not asserted here (a wall-clock bound fails on a busy machine): the similarity
    # graph is capped at _MAX_SENTENCES, which keeps it quadratic in a constant.
    paper = Paper("x", "t", full_text=synthetic_paper(20))
    assert len(paper.full_text.split()) > 9000
    text = ExtractiveSummarizer(SummarizerSettings()).summarize(paper)
    assert 100 <= len(words(text)) <= 150 and "Proc." not in text


def test_the_output_does_not_depend_on_hash_order() -> None:
    """Set and dict order of strings changes with PYTHONHASHSEED; the summary must not."""
    code = (
        "import sys; sys.path.insert(0, 'tests/summarize'); import test_summarize as t; "
        "from podcast.models import Paper; "
        "print(t.summarize(Paper('x', 't', abstract=t.RESNET.abstract, full_text=t.synthetic_paper(4)), 90))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout.strip())
    assert outputs == {summarize(Paper("x", "t", abstract=RESNET.abstract, full_text=synthetic_paper(4)), 90)}


# --- the registry and the stage ---------------------------------------------------------------------


def test_registry_knows_the_builtin_and_rejects_unknown_names() -> None:
    assert "extractive" in names()
    assert get("extractive") is ExtractiveSummarizer
    with pytest.raises(EngineError, match=r"^unknown summarizer 'nope'; known: .*\bextractive\b"):
        get("nope")


def test_builtin_engines_are_imported_only_when_asked_for() -> None:
    code = (
        "import sys, podcast.summarize as s; "
        "assert 'extractive' in s.names(); "
        "assert 'podcast.summarize.extractive' not in sys.modules and 'numpy' not in sys.modules; "
        "s.get('extractive'); assert 'podcast.summarize.extractive' in sys.modules"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stderr


def test_a_third_party_engine_registered_by_decorator_runs_through_the_stage() -> None:
    made: list[Summarizer] = []

    @register
    class Headline(Summarizer):
        name = "test-headline"

        def __init__(self, settings: SummarizerSettings) -> None:
            super().__init__(settings)
            made.append(self)

        def summarize(self, paper: Paper) -> str:
            return f"{paper.title}, in {self.settings.words} words or fewer.\n"

    assert "test-headline" in names()
    summaries = summarize_papers(ABSTRACTS, SummarizerSettings(engine="test-headline", words=9))
    assert [s.paper for s in summaries] == ABSTRACTS
    assert summaries[0].text == "Attention Is All You Need, in 9 words or fewer."
    assert len(made) == 1  # loaded once, called per paper


def test_the_stage_with_the_default_engine() -> None:
    summaries = summarize_papers(iter(ABSTRACTS), SummarizerSettings(words=60))
    assert [s.paper.id for s in summaries] == [p.id for p in ABSTRACTS]
    assert all(40 <= len(words(s.text)) <= 72 for s in summaries)


def test_a_paper_without_text_is_named_before_any_engine_runs() -> None:
    empty = Paper("2401.00001", "Nothing Here", abstract="  \n")
    with pytest.raises(InputError, match=r"'2401\.00001' \('Nothing Here'\) has no abstract and no text"):
        summarize_papers([TRANSFORMER, empty], SummarizerSettings(engine="no-such-engine"))


def test_an_engine_that_returns_nothing_or_crashes_is_reported_with_the_paper() -> None:
    @register
    class Silent(Summarizer):
        name = "test-silent"

        def summarize(self, paper: Paper) -> str:
            return " \n"

    @register
    class Broken(Summarizer):
        name = "test-broken"

        def summarize(self, paper: Paper) -> str:
            raise KeyError("choices")

    with pytest.raises(InputError, match=r"'test-silent' wrote nothing for paper '1810\.04805'"):
        summarize_papers([BERT], SummarizerSettings(engine="test-silent"))
    with pytest.raises(EngineError, match=r"'test-broken' failed on paper '1810\.04805'.*KeyError"):
        summarize_papers([BERT], SummarizerSettings(engine="test-broken"))


def test_register_refuses_what_cannot_be_an_engine() -> None:
    class Nameless(Summarizer):
        def summarize(self, paper: Paper) -> str:
            return "x"

    class Abstract(Summarizer):
        name = "test-abstract"

    class Impostor(Summarizer):
        name = "extractive"

        def summarize(self, paper: Paper) -> str:
            return "x"

    class Twin(Impostor):
        name = "test-headline-twin"

    class OtherTwin(Impostor):
        name = "test-headline-twin"

    with pytest.raises(TypeError, match="class attribute `name`"):
        register(Nameless)
    with pytest.raises(TypeError, match="does not implement summarize"):
        register(Abstract)  # type: ignore[type-abstract]
    with pytest.raises(TypeError, match="not a Summarizer"):
        register(str)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="'extractive' is built in"):
        register(Impostor)
    register(Twin)
    assert register(Twin) is Twin  # registering the same class again is harmless
    with pytest.raises(ValueError, match="already registered"):
        register(OtherTwin)
    assert get("extractive") is ExtractiveSummarizer


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("words", 0, "summarizer.words must be a whole number of at least 1, got 0"),
        ("words", "130", "summarizer.words"),
        ("temperature", 2.5, "summarizer.temperature must be a number from 0 to 2, got 2.5"),
        ("engine", " ", "summarizer.engine must name an engine"),
    ],
)
def test_bad_settings_fail_when_made(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        SummarizerSettings(**{field: value})  # type: ignore[arg-type]
