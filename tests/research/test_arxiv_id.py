"""arXiv ids: every written form parses to one ArxivId, anything else is refused with InputError, and
an episode.toml id of either scheme gets its abs link and its ledger entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podcast.config import load_episode
from podcast.errors import InputError
from podcast.research.arxiv_id import ArxivId
from podcast.research.ledger import Ledger
from podcast.research.sources import papers_of

# Reproducible examples, no per-example time limit (tests must pass on a busy machine), no .hypothesis/.
CHECKED = settings(derandomize=True, deadline=None, database=None, max_examples=300)

ARCHIVES = ["hep-th", "hep-ph", "astro-ph", "cond-mat", "gr-qc", "quant-ph", "math", "cs", "physics", "q-bio"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2405.04517", "2405.04517"),
        ("2405.04517v2", "2405.04517v2"),
        ("arXiv:2405.04517", "2405.04517"),
        ("  arxiv: 2405.04517v12 ", "2405.04517v12"),
        ("0704.0001", "0704.0001"),
        ("1412.9999v3", "1412.9999v3"),
        ("hep-th/9711200", "hep-th/9711200"),
        ("hep-th/9711200v1", "hep-th/9711200v1"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("arXiv:hep-th/9108001", "hep-th/9108001"),
        ("https://arxiv.org/abs/2405.04517", "2405.04517"),
        ("https://arxiv.org/abs/2405.04517v1", "2405.04517v1"),
        ("https://arxiv.org/pdf/2405.04517v2.pdf", "2405.04517v2"),
        ("https://arxiv.org/pdf/2405.04517", "2405.04517"),
        ("https://arxiv.org/html/2405.04517v2/#S3", "2405.04517v2"),
        ("http://www.arxiv.org/abs/2405.04517?context=cs", "2405.04517"),
        ("http://export.arxiv.org/abs/hep-th/9711200v3", "hep-th/9711200v3"),
        ("export.arxiv.org/pdf/math.GT/0309136.pdf", "math.GT/0309136"),
        ("HTTPS://ARXIV.ORG/ABS/2405.04517/", "2405.04517"),
    ],
)
def test_id_forms(text: str, expected: str) -> None:
    assert str(ArxivId.parse(text)) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "", "xlstm", "2405.4517", "2405.045170", "1313.12345", "1412.12345", "1501.1234", "0703.0001",
        "2405.00000", "2405.04517v0", "2405.04517V2", "2405.04517v", "hep-th/99011", "hep-th/9711000",
        "hep-th/0704001", "hep-th/9107001", "HEP-TH/9711200", "math.gt/0309136", "2405.04517 2405.04518",
        "https://example.com/abs/2405.04517", "https://arxiv.org/list/cs.LG/recent", "https://arxiv.org/abs/",
        "https://arxiv.org/abs/2405.04517/x1.png", "２４０５.０４５１７", "٢٤٠٥.٠٤٥١٧",
    ],
)
def test_malformed_ids_are_refused_by_name(bad: str) -> None:
    assert ArxivId.try_parse(bad) is None
    with pytest.raises(InputError, match=re.escape(repr(bad.strip())) + " is not an arXiv id or link"):
        ArxivId.parse(bad)


def test_an_id_is_always_well_formed() -> None:
    with pytest.raises(InputError, match=r"'2405.4517' .* is not an arXiv id"):
        ArxivId("2405.4517")
    with pytest.raises(InputError):
        ArxivId("2405.04517", -1)
    assert ArxivId("2405.04517", 2) == ArxivId.parse("2405.04517v2")


# -- properties ------------------------------------------------------------------------------------


@st.composite
def arxiv_ids(draw: st.DrawFn) -> ArxivId:
    version = draw(st.integers(0, 30))
    if draw(st.booleans()):
        year, month = draw(st.sampled_from([(2007, 4), (2014, 12), (2015, 1)]) | st.tuples(
            st.integers(2008, 2099), st.integers(1, 12)))
        digits = 5 if (year, month) >= (2015, 1) else 4
        number = draw(st.integers(1, 10**digits - 1))
        return ArxivId(f"{year % 100:02d}{month:02d}.{number:0{digits}d}", version)
    year, month = draw(st.sampled_from([(1991, 8), (2007, 3)]) | st.tuples(
        st.integers(1992, 2006), st.integers(1, 12)))
    archive = draw(st.sampled_from(ARCHIVES)) + draw(st.sampled_from(["", ".GT", ".AI", ".CL"]))
    return ArxivId(f"{archive}/{year % 100:02d}{month:02d}{draw(st.integers(1, 999)):03d}", version)


@CHECKED
@given(arxiv_ids())
def test_an_id_round_trips_through_its_text(aid: ArxivId) -> None:
    text = str(aid)
    assert ArxivId.parse(text) == aid and str(ArxivId.parse(text)) == text
    assert ArxivId.parse("arXiv:" + text) == aid
    assert ArxivId.parse(aid.base) == ArxivId(aid.base)


@CHECKED
@given(
    arxiv_ids(),
    st.sampled_from(["http://", "https://", ""]),
    st.sampled_from(["arxiv.org", "www.arxiv.org", "export.arxiv.org"]),
    st.sampled_from(["abs/{}", "abs/{}/", "pdf/{}", "pdf/{}.pdf", "html/{}", "abs/{}?context=cs", "abs/{}#refs"]),
)
def test_every_link_form_gives_the_id(aid: ArxivId, scheme: str, host: str, page: str) -> None:
    assert ArxivId.parse(f"{scheme}{host}/{page.format(aid)}") == aid
    assert ArxivId.parse(aid.abs_url) == aid


ID_LIKE = st.text(alphabet="0123456789.v/:-abcdehmprstxAGTX ", max_size=40)
"""Text close to ids, where a loose parser would slip; st.text() covers the rest of Unicode."""


@CHECKED
@given(st.one_of(st.text(), ID_LIKE, arxiv_ids().map(str).flatmap(lambda s: st.just(s) | ID_LIKE.map(s.__add__))))
def test_any_text_is_an_id_or_an_input_error(text: str) -> None:
    try:
        aid = ArxivId.parse(text)
    except InputError as e:
        assert "is not an arXiv id or link" in str(e)
        assert ArxivId.try_parse(text) is None
        return
    assert ArxivId.parse(str(aid)) == aid  # what parses is a whole, valid id
    assert str(aid) in text or aid.base in text


# -- where ids are read ------------------------------------------------------------------------------


EPISODE = """\
title = "Old and new"
date = 2024-05-10

[[papers]]
id = "hep-th/9711200"
title = "The Large N Limit of Superconformal Field Theories and Supergravity"

[[papers]]
id = "math.GT/0309136v1"
title = "A Geometrization Paper"

[[papers]]
id = "2405.04517v2"
title = "xLSTM: Extended Long Short-Term Memory"

[[papers]]
id = "my-notes"
title = "Not on arXiv"

[[papers]]
title = "Linked by a PDF URL"
url = "https://arxiv.org/pdf/0704.0001v1"
"""


def test_episode_papers_of_either_scheme_get_their_abs_link(tmp_path: Path) -> None:
    folder = tmp_path / "episodes" / "week"
    folder.mkdir(parents=True)
    (folder / "episode.toml").write_text(EPISODE, "utf-8")
    papers = papers_of(load_episode(folder), folder)
    assert [(p.id, p.url) for p in papers] == [
        ("hep-th/9711200", "https://arxiv.org/abs/hep-th/9711200"),
        ("math.GT/0309136v1", "https://arxiv.org/abs/math.GT/0309136v1"),
        ("2405.04517v2", "https://arxiv.org/abs/2405.04517v2"),
        ("my-notes", ""),
        ("0704.0001", "https://arxiv.org/pdf/0704.0001v1"),  # the id of its link, without version
    ]
    with Ledger.open(tmp_path) as ledger:
        ledger.sync(tmp_path)
        assert ledger.taken() == {"hep-th/9711200", "math.GT/0309136", "2405.04517", "0704.0001"}
        assert ledger.history("hep-th/9711200v2").picked == ("week",)
        with pytest.raises(InputError, match="'my-notes' is not an arXiv id"):
            ledger.history("my-notes")
