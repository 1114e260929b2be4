"""arXiv: `podcast new --arxiv/--pick/--from-find`, `podcast find`, the ledger, politeness and full-text
PDFs, against a fake arXiv on 127.0.0.1 (tests/fakes/arxiv.py) that answers in arXiv's Atom format."""

from __future__ import annotations

import itertools
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.arxiv import FakeArxiv, corrupt, encrypted, make_pdf
from support.shows import make_publishable

from podcast import cli
from podcast.build import summarize_stage
from podcast.config import load_episode, load_show
from podcast.edits import Generated
from podcast.episode import catalog
from podcast.errors import ConfigError, InputError
from podcast.models import BuiltEpisode, Paper
from podcast.research.arxiv import API_ENV, ArxivClient, ArxivUnavailable, add_full_text, endpoint
from podcast.research.ledger import FILE, Ledger
from podcast.research.sources import papers_of
from podcast.scaffold import init_show

DELAY = 0.05
WEEK = ["--since", "2024-05-06", "--until", "2024-05-12"]
# Papers of the sample week in the fake arXiv, newest first. The show made by `podcast init` has
# xLSTM (2405.04517) and DeepSeek-V2 (2405.04434) in its starter episode: they are never offered.
NEWEST_FIRST = ["2405.05967", "2405.05904", "2405.05417", "2405.05374", "2405.05254", "2405.04532",
                "2405.04437", "2405.04324"]
XLSTM_PDF = [
    ["xLSTM: Extended Long Short-Term Memory", "Maximilian Beck, Korbinian Poppel, Markus Spanring",
     "Abstract", "The LSTM is revisited with exponential gating and new memory structures.",
     "1 Introduction",
     "Recurrent networks process a sequence one token at a time and keep a fixed-size state.",
     "We propose the xLSTM, a family of recurrent blocks that scale to billions of parameters.",
     "The exponential input gate lets a cell revise an earlier storage decision when a better item arrives.",
     "A normalizer state keeps the exponential gates numerically stable during training."],
    ["2 Method",
     "The mLSTM cell stores a matrix memory and retrieves from it with a query vector.",
     "Its update follows a covariance rule, so keys and values are written as outer products.",
     "Because the mLSTM has no hidden-to-hidden recurrence, its training can run in parallel."],
    ["5 Conclusion",
     "Scaled to the size of current language models, the xLSTM matches Transformers and state space models.",
     "The constant memory cost at inference makes the xLSTM attractive for long sequences on small devices."],
]


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_show(tmp_path_factory.mktemp("starter") / "show")


@pytest.fixture
def show(starter: Path, tmp_path: Path, fake_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A show from `podcast init` whose [find] table points at the fake arXiv; the current folder."""
    root = make_publishable(Path(shutil.copytree(starter, tmp_path / "show")))
    toml = root / "podcast.toml"
    text = toml.read_text("utf-8")
    assert text.count("[summarizer]\n") == 1, "podcast init's podcast.toml should have a [summarizer] table"
    text = text.replace("[summarizer]\n", "[summarizer]\nwords = 400\n")  # room for abstract and PDF text
    assert text.count("\n[find]\n") == 1, "podcast init's podcast.toml should have a [find] table"
    find = f'arxiv_api = "{fake_arxiv.api_url}"\ndelay = {DELAY}\ncategories = ["cs.LG", "cs.CL", "cs.AI"]\n'
    text = text.replace("\n[find]\n", "\n[find]\n" + find)
    toml.write_text(text, "utf-8")
    monkeypatch.delenv(API_ENV, raising=False)
    monkeypatch.chdir(root)
    return root


def podcast(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`podcast ARGS` in this process (fast); (exit code, stdout, stderr)."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one-line error of a command that must fail with exit code 1."""
    code, _, err = podcast(capsys, *args)
    assert code == 1, err
    assert err.startswith("error: ") and err.count("\n") == 1, repr(err)
    return err


def ids_of(out: str) -> list[str]:
    return re.findall(r"^\s+\d+\. (\S+)", out, flags=re.M)


# -- podcast new --arxiv ---------------------------------------------------------------------------


def test_new_arxiv_writes_the_papers_metadata(show: Path, fake_arxiv: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = podcast(capsys, "new", "episodes/week", "--arxiv", "2405.05254",
                             "https://arxiv.org/abs/2405.04517v1", "arXiv:hep-th/9711200", "--date", "2024-05-17")
    assert code == 0, err
    assert out.startswith("created episodes/week with 3 papers")
    ep = load_episode(show / "episodes" / "week")
    assert [p.id for p in ep.papers] == ["2405.05254", "2405.04517v1", "hep-th/9711200"]
    yoco, xlstm, maldacena = ep.papers
    assert yoco.title == "You Only Cache Once: Decoder-Decoder Architectures for Language Models"
    assert yoco.authors[:2] == ("Yutao Sun", "Li Dong") and yoco.url == "https://arxiv.org/abs/2405.05254"
    assert str(yoco.published) == "2024-05-08" and yoco.abstract.startswith("Every layer of a decoder-only")
    assert xlstm.url == "https://arxiv.org/abs/2405.04517v1" and "Pöppel" in xlstm.authors[1]
    assert maldacena.authors == ("Juan M. Maldacena",) and str(maldacena.published) == "1997-11-27"
    assert (ep.title, str(ep.date)) == ("week", "2024-05-17")
    [query] = fake_arxiv.api_requests()  # all ids in one request
    assert query["id_list"] == ["2405.05254,2405.04517v1,hep-th/9711200"]
    with Ledger.open(show) as ledger:
        assert ledger.history("2405.05254").picked == ("week",)
        assert ledger.history("2405.05254").first_query == "podcast new --arxiv"


def test_new_arxiv_errors_name_the_paper_and_create_nothing(
    show: Path, fake_arxiv: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    new = ("new", "episodes/week", "--arxiv")
    assert "arXiv has no paper 2405.99999; check the id" in fails(capsys, *new, "2405.05254", "2405.99999")
    assert "'2405.4517' is not an arXiv id" in fails(capsys, *new, "2405.4517")
    assert "'https://example.com/abs/1' is not an arXiv id or link" in fails(
        capsys, *new, "https://example.com/abs/1")
    assert len(fake_arxiv.requests) == 1, "malformed ids must be refused before asking arXiv"

    fake_arxiv.failures += [500] * 4  # arXiv's error page, every try
    err = fails(capsys, *new, "2405.05374")
    assert "arXiv lookup of 2405.05374: arXiv answered HTTP 500, 4 times; try again later" in err
    fake_arxiv.failures += ["error-feed"]  # an Atom feed whose entry is an error: not retried
    assert "arXiv lookup of 2405.05417: arXiv says: max_results must be an integer" in fails(
        capsys, *new, "2405.05417")
    fake_arxiv.failures += [400]
    assert "arXiv lookup of 2405.05417: arXiv answered HTTP 400" in fails(capsys, *new, "2405.05417")
    assert len(fake_arxiv.requests) == 1 + 4 + 1 + 1
    assert not (show / "episodes" / "week").exists()
    assert fails(capsys, "new", "episodes/first-week", "--arxiv", "2405.05374").startswith(
        "error: episodes/first-week: already exists")


def test_transient_errors_are_retried_with_backoff(show: Path, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.failures += [503, 500, 502]
    [listing] = ArxivClient(endpoint(load_show(show))).lookup(["2405.05904"])
    assert listing.title.startswith("Does Fine-Tuning LLMs on New Knowledge")
    times = [t for t, _ in fake_arxiv.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 4
    assert all(gap >= DELAY * 2**i * 0.9 for i, gap in enumerate(gaps)), gaps  # 1, 2, 4 times the delay


# -- podcast find and the ledger -------------------------------------------------------------------


def test_find_lists_newest_first_and_never_twice(show: Path, fake_arxiv: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = podcast(capsys, "find", *WEEK, "--max", "3")
    assert code == 0, err
    assert ids_of(out) == NEWEST_FIRST[:3]
    assert "Distilling Diffusion Models into Conditional GANs" in out and "Minguk Kang" in out
    assert "3 new papers (cs.LG, cs.CL, cs.AI, submitted 2024-05-06 to 2024-05-12)" in out
    query = fake_arxiv.api_requests()[0]
    assert query["sortBy"] == ["submittedDate"] and query["sortOrder"] == ["descending"]
    assert "submittedDate:[202405060000 TO 202405122359]" in query["search_query"][0]

    _, out, _ = podcast(capsys, "find", *WEEK, "--max", "3")
    assert ids_of(out) == NEWEST_FIRST[3:6]
    assert "3 listed before or in an episode left out" in out
    _, out, _ = podcast(capsys, "find", *WEEK)
    assert ids_of(out) == NEWEST_FIRST[6:]
    assert "8 listed before or in an episode left out" in out  # 6 seen, xLSTM and DeepSeek-V2 taken
    _, out, _ = podcast(capsys, "find", *WEEK)
    assert ids_of(out) == [] and out.startswith("0 new papers")
    _, out, _ = podcast(capsys, "find", *WEEK, "--all")
    assert ids_of(out) == NEWEST_FIRST, "--all lists seen papers again, never those in an episode"

    with Ledger.open(show) as ledger:
        seen = ledger.history("2405.05967")
    assert seen.first_query.startswith("(cat:cs.LG OR cat:cs.CL OR cat:cs.AI) AND submittedDate:")
    assert seen.first_seen and abs(seen.first_seen - datetime.now(UTC)).total_seconds() < 60
    assert seen.picked == seen.published == ()


def test_find_filters_by_category_and_terms(show: Path, fake_arxiv: FakeArxiv, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = podcast(capsys, "find", *WEEK, "--category", "cs.CL", "--include", "cache")
    assert ids_of(out) == ["2405.05254", "2405.04532"]  # YOCO, QServe (DeepSeek-V2 is in an episode)
    _, out, _ = podcast(capsys, "find", *WEEK, "--all", "--category", "cs.CL,cs.LG", "--include", "KV cache",
                        "--include", "hallucinate", "--exclude", "quantization")
    assert ids_of(out) == ["2405.05904", "2405.05254", "2405.04437"]
    sent = fake_arxiv.api_requests()[-1]["search_query"][0]
    assert sent.endswith('AND (all:"KV cache" OR all:"hallucinate") ANDNOT (all:"quantization")')
    _, out, _ = podcast(capsys, "find", "--since", "2024-05-09", "--until", "2024-05-09", "--category", "cs.CV", "--all")
    assert ids_of(out) == ["2405.05967", "2405.05945"]


def test_find_option_errors(show: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--since 2024-05-12 is after --until 2024-05-06" in fails(
        capsys, "find", "--since", "2024-05-12", "--until", "2024-05-06")
    assert "--until '12 May' is not a date like 2024-05-06" in fails(capsys, "find", "--until", "12 May")
    assert "--category 'cs.LG!' is not an arXiv category" in fails(capsys, "find", "--category", "cs.LG!")
    assert "--max must be from 1 to 1000, not 0" in fails(capsys, "find", "--max", "0")


def test_built_episodes_papers_count_as_published(show: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = show / "episodes" / "old"
    paper = Paper("2405.05967", "Distilling Diffusion Models into Conditional GANs",
                  url="https://arxiv.org/abs/2405.05967")
    when = datetime(2024, 5, 10, tzinfo=UTC)
    (folder / "build").mkdir(parents=True)
    catalog.save(folder / "build", BuiltEpisode("old", "Old", 1, when, "g", "d", "<p>d</p>", "old.mp3", 1, 1.0,
                                                (), (paper,)))
    _, out, _ = podcast(capsys, "find", *WEEK)
    assert "2405.05967" not in ids_of(out) and ids_of(out)[0] == "2405.05904"
    with Ledger.open(show) as ledger:
        assert ledger.history("2405.05967").published == ("old",)
        assert ledger.history("2405.04517").picked == ("first-week",)


def test_ledger_refuses_a_newer_schema_or_a_foreign_file(show: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = sqlite3.connect(show / FILE)
    db.execute("PRAGMA user_version = 99")
    db.close()
    assert "written by a newer papercast (history schema 99" in fails(capsys, "find", *WEEK)
    (show / FILE).write_bytes(b"this is not a database" * 100)
    assert f"{FILE}: not a readable papercast history" in fails(capsys, "find", *WEEK)


# -- podcast new --pick / --from-find ----------------------------------------------------------------


def test_pick_reads_the_choice_on_stdin(show: Path, fake_arxiv: FakeArxiv) -> None:
    assert cli.main(["find", *WEEK, "--max", "4"]) == 0
    picked = subprocess.run(
        [sys.executable, "-m", "podcast", "new", "episodes/picked", "--pick", "--title", "Picked"],
        cwd=show, input="7\n1, 3-4\n", capture_output=True, text=True, timeout=60, check=False,
    )
    assert picked.returncode == 0, picked.stderr
    assert "'7' is not within 1-4; try again" in picked.stdout
    assert [p.id for p in load_episode(show / "episodes" / "picked").papers] == [
        NEWEST_FIRST[0], NEWEST_FIRST[2], NEWEST_FIRST[3]]
    assert cli.main(["new", "episodes/2024-05-24-rest", "--from-find"]) == 0
    rest = load_episode(show / "episodes" / "2024-05-24-rest")
    assert [p.id for p in rest.papers] == [NEWEST_FIRST[1]]
    assert str(rest.date) == "2024-05-24", "the date in the folder's name, without --date"
    assert len(fake_arxiv.requests) == 1, "picking uses the ledger, not arXiv"


def test_pick_errors(show: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no papers to choose from yet; run 'podcast find' first" in fails(capsys, "new", "episodes/x", "--pick")
    podcast(capsys, "find", *WEEK, "--max", "2")
    monkeypatch.setattr(sys, "stdin", _Lines("\n"))
    assert "nothing picked; no episode was created" in fails(capsys, "new", "episodes/x", "--pick")
    monkeypatch.setattr(sys, "stdin", _Lines("1-9\n"))  # then the end of input
    assert "nothing picked" in fails(capsys, "new", "episodes/x", "--pick")
    assert not (show / "episodes" / "x").exists()
    assert podcast(capsys, "new", "episodes/x", "--from-find")[0] == 0
    assert "listed 2 papers, none left to pick; run 'podcast find' again" in fails(
        capsys, "new", "episodes/y", "--from-find")


class _Lines:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)

    def readline(self) -> str:
        return self.lines.pop(0) if self.lines else ""

    def isatty(self) -> bool:
        return False


# -- politeness and the cache ----------------------------------------------------------------------


def test_one_request_per_interval_across_commands(show: Path, fake_arxiv: FakeArxiv) -> None:
    toml = show / "podcast.toml"
    toml.write_text(toml.read_text("utf-8").replace(f"delay = {DELAY}", "delay = 0.25"), "utf-8")
    cfg = load_show(show)
    fake_arxiv.pdfs["2405.05904"] = make_pdf(XLSTM_PDF)
    client = ArxivClient(endpoint(cfg), page_size=3)
    assert [listing.id for listing in client.search("cat:cs.CL")] == [
        "2405.05904", "2405.05417", "2405.05374", "2405.05254", "2405.04532", "2405.04434", "2405.04324"]
    client.pdf("2405.05904")
    ArxivClient(endpoint(cfg)).lookup(["2405.04324"])  # a new client, as in the next command
    times = [t for t, _ in fake_arxiv.requests]
    assert len(times) == 3 + 1 + 1
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25, gaps


def test_answers_are_cached_and_a_failed_run_resumes(show: Path, fake_arxiv: FakeArxiv) -> None:
    ep = endpoint(load_show(show))
    ArxivClient(ep).lookup(["2405.05904"])
    ArxivClient(ep).lookup(["2405.05904"])
    assert len(fake_arxiv.requests) == 1, "a lookup by id is answered from .cache/arxiv/"
    assert list((show / ".cache" / "arxiv").glob("*/*.atom"))

    fake_arxiv.requests.clear()
    fake_arxiv.failures += [None, 500, 500, 500, 500]  # page 2 keeps failing
    with pytest.raises(ArxivUnavailable, match="arXiv answered HTTP 500, 4 times"):
        list(ArxivClient(ep, page_size=3).search("cat:cs.CL"))
    fake_arxiv.requests.clear()
    assert len(list(ArxivClient(ep, page_size=3).search("cat:cs.CL"))) == 7
    assert [q["start"] for q in fake_arxiv.api_requests()] == [["3"], ["6"]], "page 1 came from the cache"


def test_an_empty_page_mid_results_is_retried(show: Path, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.failures += [None, "empty"]
    found = list(ArxivClient(endpoint(load_show(show)), page_size=4).search("cat:cs.CL"))
    assert len(found) == 7 and len(fake_arxiv.requests) == 3


def test_real_arxiv_needs_three_seconds(show: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = show / "podcast.toml"
    toml.write_text(re.sub(r'arxiv_api = ".*"\n', "", toml.read_text("utf-8")), "utf-8")
    assert "delay = 0.05 is too short for arXiv, which asks for at most one request every 3 seconds" in fails(
        capsys, "find", *WEEK)


# -- full text -------------------------------------------------------------------------------------


def test_pdf_text_reaches_the_summary_and_bad_pdfs_fall_back(
    show: Path, fake_arxiv: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = make_pdf(XLSTM_PDF)
    fake_arxiv.pdfs.update({"2405.04517": pdf, "2405.04434": corrupt(pdf), "2405.05254": encrypted(pdf),
                      "2405.04532": make_pdf([[], []])})  # 2405.04437: no PDF at all (404)
    ids = ["2405.04517", "2405.04434", "2405.05254", "2405.04532", "2405.04437"]
    assert podcast(capsys, "new", "episodes/week", "--arxiv", *ids)[0] == 0
    cfg, folder = load_show(show), show / "episodes" / "week"
    warnings: list[str] = []
    papers = add_full_text(papers_of(load_episode(folder), folder), cfg, warnings.append)

    assert "matrix memory and retrieves from it with a query vector" in papers[0].full_text
    assert [bool(p.full_text) for p in papers] == [True, False, False, False, False]
    assert len(warnings) == 4, warnings
    for warning, pid, reason in zip(warnings, ids[1:], ["is not readable", "is encrypted", "has no text layer",
                                                        "arXiv answered HTTP 404"], strict=True):
        assert warning.startswith(f"paper {pid} (") and reason in warning and "summarized from its abstract" in warning

    summaries = summarize_stage(folder, papers, cfg, Generated(folder), lambda m: None)[0]
    assert "The authors propose the xLSTM, a family of recurrent blocks" in summaries[0].text
    assert summaries[1].text.startswith("DeepSeek-AI presents DeepSeek-V2")  # its abstract

    pdf_requests = len([p for _, p in fake_arxiv.requests if p.startswith("/pdf/2405.04517")])
    add_full_text(papers_of(load_episode(folder), folder), cfg, warnings.append)
    assert len([p for _, p in fake_arxiv.requests if p.startswith("/pdf/2405.04517")]) == pdf_requests == 1


def test_offline_build_uses_abstracts_with_one_warning(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on: connections are refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(API_ENV, f"http://127.0.0.1:{port}/api/query")
    folder = show / "episodes" / "first-week"
    warnings: list[str] = []
    papers = add_full_text(papers_of(load_episode(folder), folder), load_show(show), warnings.append)
    assert [p.full_text for p in papers] == ["", ""] and papers[0].abstract
    [warning] = warnings
    assert warning.startswith(f"cannot connect to 127.0.0.1:{port}")
    assert "2 papers (2405.04517, 2405.04434) summarized from their abstracts" in warning


def test_a_local_pdf_that_cannot_be_read_is_an_error_naming_the_paper(show: Path) -> None:
    folder = show / "episodes" / "first-week"
    (folder / "papers").mkdir()
    (folder / "papers" / "xlstm.pdf").write_bytes(encrypted(make_pdf(XLSTM_PDF)))
    toml = folder / "episode.toml"
    toml.write_text(toml.read_text("utf-8").replace('published = 2024-05-07\n', 'published = 2024-05-07\npdf = "papers/xlstm.pdf"\n', 1), "utf-8")
    with pytest.raises(InputError, match=r"paper '2405.04517' in .*episode.toml: .*xlstm.pdf: the PDF is encrypted"):
        papers_of(load_episode(folder), folder)


def test_find_settings_are_strict(show: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = show / "podcast.toml"
    good = toml.read_text("utf-8")
    toml.write_text(good + "maximum = 3\n", "utf-8")
    assert "podcast.toml [find]: unknown key 'maximum'; allowed: categories, include" in fails(capsys, "find")
    toml.write_text(good.replace('"cs.AI"]', '"cs AI"]'), "utf-8")
    assert "[find]: categories: 'cs AI' is not an arXiv category like cs.LG" in fails(capsys, "find")
    with pytest.raises(ConfigError, match="max must be from 1 to 1000"):
        toml.write_text(good + "max = 0\n", "utf-8")
        load_show(show)
