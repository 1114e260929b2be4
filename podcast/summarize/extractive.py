"""The offline default summarizer: a paper's most central sentences, in the order the paper has them.

How it chooses:
1. Sentences come from the abstract and, when the paper has body text, from its sections; the
   references, acknowledgements, appendices, title and author lines are dropped, and so are citation
   markers ("[12]", "(Smith et al., 2020)") and Markdown link targets.
2. Each sentence becomes a TF-IDF vector, and a biased LexRank (PageRank over their cosine
   similarities, whose random jumps land on the abstract, introduction and conclusion more than on
   the body) says how central it is. Its score is that centrality times its section's weight times
   a quality factor that demotes fragments, tables and "see Figure 3", and rules out boilerplate.
3. The first sentence that states the contribution ("we propose ...") is always kept; then the best
   sentences are added while they fit in about `words` words, skipping near-duplicates.
4. The chosen sentences are printed in source order, as one paragraph. Text with no usable sentence
   boundary is cut at the word limit, on a word boundary, and ends with a period.

English first person is put in the third ("We propose" -> "The authors propose", "our" -> "their"):
the host reads the summary aloud and the newsletter prints it under the paper's title, where "we"
would claim the work for the show. The swap is safe because "we" and "they" take the same verb
forms; anything else is kept word for word. Everything is deterministic: no randomness, ties go to
the earlier sentence, and no step depends on set or hash order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from podcast.models import Paper
from podcast.research.paper_text import TERMINAL, sections
from podcast.summarize.base import ONE_LINE_WORDS, Summarizer

_PRIOR = {"abstract": 1.0, "intro": 0.5, "conclusion": 0.5, "body": 0.12}
"""How much a section's sentences are worth as summary material (and as LexRank jump targets)."""
_DAMPING = 0.85
_SLACK = 0.15
"""A summary may run this fraction over `words` to end on a whole sentence."""
_REDUNDANT = 0.7
"""Cosine similarity above which a sentence repeats one already chosen."""
_MAX_SENTENCES = 1500
"""Cap on the similarity graph (quadratic in size); a 20-page paper has about 500 sentences."""

# Scripts written without spaces between words: each character counts as a word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_TERM = re.compile(r"\w+")
_CLOSERS = "\"'”’)]」』"
_CLOSER_CLASS = re.escape(_CLOSERS)

# fmt: off
_ENGLISH_MARKERS = frozenset(
    [
        "the", "of", "and", "to", "a", "an", "is", "are", "that", "for", "on", "with", "as", "by",
        "this", "be", "from", "which", "our", "it", "its", "these", "can"
    ]
)
"""Words frequent in English prose and rare in other languages' (unlike "in" or "we", which Dutch
and German share): they are a quarter of an English abstract's words."""
_STOPWORDS = _ENGLISH_MARKERS | frozenset(
    [
        "in", "we",
        "about", "above", "after", "again", "all", "also", "am", "among", "any", "at", "been",
        "before", "being", "both", "but", "could", "did", "do", "does", "doing", "each", "few",
        "further", "had", "has", "have", "having", "here", "how", "i", "if", "into", "more",
        "most", "much", "must", "no", "nor", "not", "now", "only", "or", "other", "over", "own",
        "same", "should", "so", "some", "such", "than", "their", "them", "then", "there", "they",
        "those", "through", "thus", "too", "under", "until", "up", "upon", "us", "very", "via",
        "was", "were", "what", "when", "where", "whether", "while", "who", "whom", "why", "will",
        "within", "without", "would", "yet", "you", "your", "however", "therefore", "moreover",
        "furthermore", "show", "shows", "shown", "use", "used", "using", "based"
    ]
)
_ABBREVIATIONS = frozenset(
    ["e.g", "i.e", "al", "vs", "cf", "approx", "resp", "dr", "mr", "mrs", "ms", "prof", "st", "viz", "u.s"]
)
"""Words whose period never ends a sentence."""
_ABBREVIATIONS_BEFORE_NUMBER = frozenset(
    ["fig", "figs", "eq", "eqs", "sec", "secs", "tab", "no", "nos", "ref", "refs", "vol", "pp", "ch", "thm"]
)
"""Words whose period does not end a sentence when a number follows ("Fig. 3")."""
# fmt: on

_LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_SENTENCE_END = re.compile(rf"[.!?…]+[{_CLOSER_CLASS}]*(?=\s|$|[{_CJK}])|[。！？]+[{_CLOSER_CLASS}]*")
_HYPHEN_BREAK = re.compile(r"(\w)-\n[ \t]*([a-z])")
_ARXIV_STAMP = re.compile(  # the PDF margin's "arXiv:2405.04517v1 [cs.CL] 7 May 2024"
    r"arXiv:\d{4}\.\d{4,5}(?:v\d+)?(?:\s*\[[\w.\-]+\])?(?:\s+\d{1,2}\s+[A-Z][a-z]{2,8}\s+\d{4})?"
)
_MARKDOWN_LINK = re.compile(r"\[([^\[\]]+)\]\((?:https?://|www\.)[^)\s]*\)|<https?://[^>\s]*>")
_LATEX_TEXT = re.compile(r"\\(?:emph|textit|textbf|texttt|textsc|underline)\{([^{}]*)\}")
_LATEX_CITE = re.compile(r"\s*\\(?:cite[tp]?|citep?|ref|eqref|autoref)\*?(?:\[[^\]]*\])?\{[^}]*\}")
_NUMERIC_CITE = re.compile(r"\s*\[\s*[1-9]\d*(?:\s*[-–,;]\s*\d+)*\s*\]")
_BRACKET_CITE = re.compile(r"\s*\[[^\[\]]{0,200}?(?:et al\.?|\b(?:19|20)\d{2}[a-z]?\b)[^\[\]]{0,200}?\]")
_PAREN = re.compile(r"\s*\(([^()]{1,300})\)")
_NAME = r"[A-Z][\w'’\-]*\.?"
_YEAR = r"(?:19|20)\d{2}[a-z]?"
_CITATION = re.compile(
    rf"(?:(?:see|e\.g\.|cf\.),?\s+)?{_NAME}(?:(?:\s*,\s*|\s+)(?:{_NAME}|and|&|et\s+al\.?))*,?\s+{_YEAR}(?:\s*,\s*{_YEAR})*"
)
_FOOTNOTE_MARKS = re.compile(r"[†‡∗]")
_ABSTRACT_LABEL = re.compile(r"^\s*abstract\s*[.:—–-]\s*", re.IGNORECASE)

_BOILERPLATE = re.compile(
    r"@[\w-]+\.[a-z]{2,}|https?://|www\.|\barxiv:|\bdoi\b|\bpreprint\b|under review|copyright|©"
    r"|all rights reserved|licen[cs]ed under|equal contribution|corresponding author|correspondence to"
    r"|index terms|keywords?\s*[:—-]|proceedings of|permission to",
    re.IGNORECASE,
)
_VISUAL_REFERENCE = re.compile(
    r"\b(?:fig(?:ure)?s?|tab(?:le)?s?|sec(?:tion)?s?|eqs?|equations?|algorithms?|alg|listings?)\.?[\s~]*\(?[0-9IVX]"
    r"|\bappendi(?:x|ces)\b",
    re.IGNORECASE,
)
_AUTHORS = r"\b(?:we|et al\.|the authors|(?:this|our) (?:\w+ )?(?:paper|work|study|article|report))"
_CONTRIBUTION = (
    # Strongest cue first: a sentence saying what the paper proposes beats one saying what it shows,
    # which beats one where someone unnamed proposes something.
    re.compile(
        _AUTHORS + r"[^.;]{0,80}?\b(?:propos|present|introduc|develop|describ|design|devis|formulat)",
        re.IGNORECASE,
    ),
    re.compile(
        _AUTHORS + r"[^.;]{0,80}?\b(?:show|demonstrat|find|found|stud|investigat|explor|report|analy[sz]"
        r"|provid|establish|prov|deriv|releas|build|built|train|evaluat|achiev|ask|examin|address|revisit)",
        re.IGNORECASE,
    ),
    re.compile(r"^[^.;]{0,80}?\b(?:proposes?|presents?|introduces?|describes?|unveils?)\b"),
)
_NEEDS_CONTEXT = re.compile(r"^(?:It|Its|They|Their|Them|These|Those|He|She|His|Her|Such)\b")
_CONNECTIVE = re.compile(
    r"^(?:Then|Also|Moreover|Furthermore|In addition|Additionally|However|Instead|Likewise|Similarly"
    r"|Thus|Hence|Therefore|Second(?:ly)?|Third(?:ly)?)\b"
)
_LEAD_IN = re.compile(
    r"^(?:(?:in|within|throughout) (?:this|the present|our)"
    r" (?:paper|work|study|article|report|manuscript|note|letter)\s*,?\s*|here(?:in)?\s*,?\s*(?=we\b))",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:[Ww]e|[Oo]ur(?:s|selves)?|us)\b")
_NAMING = {"we": "the authors", "our": "the authors'", "ours": "the authors'", "us": "the authors"}
_PRONOUN = {"we": "they", "our": "their", "ours": "theirs", "us": "them", "ourselves": "themselves"}



@dataclass(frozen=True)
class _Sentence:
    text: str
    kind: str
    """"abstract", "intro", "conclusion" or "body": what the sentence's section is worth."""


class ExtractiveSummarizer(Summarizer):
    """Offline and deterministic: picks and orders sentences, never writes new ones (beyond
    turning English first person into the third)."""

    name = "extractive"

    def summarize(self, paper: Paper) -> str:
        """About `settings.words` words of the paper's own sentences, as one Markdown paragraph."""
        budget = self.settings.words
        sentences = _cap(_gather(paper))
        if not sentences:
            return _fallback(paper, budget)
        english = _is_english(s.text for s in sentences)
        chosen = _choose(sentences, budget, english)
        text = _render(chosen, english)
        return _truncate(text, budget) if _count_words(text) > _ceiling(budget) else text

    def summarize_line(self, paper: Paper) -> str:
        """The paper's top sentence: the one that states its contribution, else the first of the best
        ones; whole, unless it runs past twice ONE_LINE_WORDS."""
        sentences = _cap(_gather(paper))
        if not sentences:
            return _fallback(paper, ONE_LINE_WORDS)
        english = _is_english(s.text for s in sentences)
        top = _contribution(sentences, np.array([_quality(s.text) for s in sentences]))
        chosen = sentences[top].text if top is not None else _choose(sentences, ONE_LINE_WORDS, english)[0]
        text = _render([chosen], english)
        return _truncate(text, 2 * ONE_LINE_WORDS) if _count_words(text) > 2 * ONE_LINE_WORDS else text


# --- sentences -------------------------------------------------------------------------------------


def _gather(paper: Paper) -> list[_Sentence]:
    """The abstract's sentences, then the full text's, in reading order."""
    sentences = [_Sentence(s, "abstract") for s in _sentences(_ABSTRACT_LABEL.sub("", paper.abstract))]
    body: list[_Sentence] = []
    for kind, block in sections(paper.full_text, have_abstract=bool(sentences)):
        body += [_Sentence(s, kind) for s in _sentences(block)]
    if body and all(s.kind == "body" for s in body):
        body = _positional_kinds(body)
    return sentences + body


def _sentences(text: str) -> list[str]:
    """Clean `text` and split it into sentences that have at least one letter or digit.

    >>> _sentences("Deep nets work [3]. See Smith et al. (2020) for more, e.g. Fig. 2. 第一句。第二句")
    ['Deep nets work.', 'See Smith et al. (2020) for more, e.g. Fig. 2.', '第一句。', '第二句']
    """
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", _clean(text)):
        flat = " ".join(paragraph.split())
        out += [s for s in _split(flat) if _TERM.search(s)]
    return out


def _clean(text: str) -> str:
    """Remove what is not prose: citation markers, PDF line-break hyphens, LaTeX text commands, and
    the targets of Markdown links (an abstract may come from an imported newsletter).

    >>> _clean("[xLSTM](https://arxiv.org/abs/2405.04517) scales <https://x.org>")
    'xLSTM scales '

    >>> _clean("seen [12, 14] and (Vaswani et al., 2017; Devlin, 2019), but Lee (2021) \\\\emph{also}")
    'seen and, but Lee (2021) also'
    """
    text = text.translate(_LIGATURES).replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = _ARXIV_STAMP.sub("", text)
    text = _MARKDOWN_LINK.sub(lambda m: m.group(1) or "", text)
    text = _LATEX_TEXT.sub(r"\1", text).replace("\\%", "%")
    text = _LATEX_CITE.sub("", text)
    text = _NUMERIC_CITE.sub("", text)
    text = _BRACKET_CITE.sub("", text)
    text = _PAREN.sub(_drop_citation, text)
    return _FOOTNOTE_MARKS.sub("", text)


def _drop_citation(match: re.Match[str]) -> str:
    parts = match.group(1).split(";")
    return "" if all(_CITATION.fullmatch(p.strip()) for p in parts) else match.group(0)


def _split(paragraph: str) -> list[str]:
    """Sentences of one paragraph (whitespace already collapsed)."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(paragraph):
        if m.group(0)[0] in ".!?…" and not _ends_sentence(paragraph, start, m):
            continue
        out.append(paragraph[start : m.end()].strip())
        start = m.end()
    out.append(paragraph[start:].strip())
    return [s for s in out if s]


def _ends_sentence(paragraph: str, start: int, m: re.Match[str]) -> bool:
    following = paragraph[m.end() :].lstrip()
    if following[:1].islower():
        return False
    before = paragraph[start : m.start()].split()
    word = before[-1].lstrip("([\"'“‘").lower() if before else ""
    if m.group(0)[0] != ".":
        return True
    if word in _ABBREVIATIONS:
        return False
    return not (word in _ABBREVIATIONS_BEFORE_NUMBER and following[:1].isdigit())


def _positional_kinds(body: list[_Sentence]) -> list[_Sentence]:
    """A text without recognizable headings: its opening reads as the introduction, its close as
    the conclusion."""
    n = len(body)
    intro_end = max(3, n // 5)
    conclusion_start = n - max(2, n // 10)
    return [
        _Sentence(s.text, "intro" if i < intro_end else "conclusion" if i >= conclusion_start else "body")
        for i, s in enumerate(body)
    ]


def _cap(sentences: list[_Sentence]) -> list[_Sentence]:
    """At most _MAX_SENTENCES: every weighted sentence, then body sentences evenly spread."""
    if len(sentences) <= _MAX_SENTENCES:
        return sentences
    keep = [i for i, s in enumerate(sentences) if s.kind != "body"][:_MAX_SENTENCES]
    body = [i for i, s in enumerate(sentences) if s.kind == "body"]
    room = _MAX_SENTENCES - len(keep)
    if room > 0:
        keep += [body[round(k * (len(body) - 1) / max(room - 1, 1))] for k in range(room)]
    return [sentences[i] for i in sorted(set(keep))]


# --- scoring ---------------------------------------------------------------------------------------


def _choose(sentences: list[_Sentence], budget: int, english: bool) -> list[str]:
    """The chosen sentences' texts, in source order."""
    similarity = _similarity([_terms(s.text, english) for s in sentences])
    prior = np.array([_PRIOR[s.kind] for s in sentences])
    quality = np.array([_quality(s.text) for s in sentences])
    score = _lexrank(similarity, prior) * prior * quality
    score = np.round(score / max(float(score.max()), 1e-300), 12)  # ties are ties on every machine
    # Lengths as printed: first person becomes "the authors", which can add a word.
    lengths = [_count_words(_render([s.text], english)) for s in sentences]
    forced = _contribution(sentences, quality)
    picked = _pick(score, similarity, lengths, budget, forced)
    return [sentences[i].text for i in picked]


def _pick(
    score: np.ndarray, similarity: np.ndarray, lengths: list[int], budget: int, forced: int | None
) -> list[int]:
    """Indices (ascending) of the best sentences that fit in about `budget` words."""
    ceiling = _ceiling(budget)
    floor = 2 * budget - ceiling
    order = sorted(range(len(lengths)), key=lambda i: (-score[i], i))
    if forced is not None and lengths[forced] > ceiling:
        return [forced]  # too long to share the space: it is cut to the budget
    chosen = [] if forced is None else [forced]
    total = sum(lengths[i] for i in chosen)
    for i in order:
        if total >= floor:
            break
        if score[i] <= 0 or i in chosen or total + lengths[i] > ceiling:
            continue
        if any(similarity[i, j] > _REDUNDANT for j in chosen):
            continue
        chosen.append(i)
        total += lengths[i]
    return sorted(chosen) if chosen else [order[0]]


def _contribution(sentences: list[_Sentence], quality: np.ndarray) -> int | None:
    """The first abstract (else introduction) sentence that says what the paper contributes."""
    for kind in ("abstract", "intro"):
        candidates = [i for i, s in enumerate(sentences) if s.kind == kind and quality[i] > 0]
        for cue in _CONTRIBUTION:
            for i in candidates:
                if cue.search(sentences[i].text):
                    return i
    return None


def _terms(text: str, english: bool) -> list[str]:
    """Index terms: lower-case words without stopwords, plurals folded; CJK as character pairs.

    >>> _terms("The models use attention", True), _terms("注意力机制", False)
    (['model', 'attention'], ['注意', '意力', '力机', '机制'])
    """
    out: list[str] = []
    for word in _TERM.findall(text.lower()):
        if _CJK_RUN.search(word):
            for run in _CJK_RUN.findall(word):
                out += [run[k : k + 2] for k in range(max(1, len(run) - 1))]
            continue
        if len(word) < 2 or word.isdigit() or (english and word in _STOPWORDS):
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        out.append(word)
    return out


def _similarity(terms: list[list[str]]) -> np.ndarray:
    """Cosine similarity of the sentences' TF-IDF vectors, with a zero diagonal.

    Only terms shared by two or more sentences can add to a dot product, so the dense matrix holds
    just those columns, while each norm counts every term: memory stays small for long papers.
    """
    n = len(terms)
    counts = [Counter(t) for t in terms]  # Counter keeps first-seen order: no hash-order effects
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    shared = {t: j for j, t in enumerate(t for t, k in df.items() if k > 1)}
    idf = {t: math.log((1 + n) / (1 + k)) + 1 for t, k in df.items()}
    matrix = np.zeros((n, len(shared)))
    norms = np.ones(n)
    for i, c in enumerate(counts):
        weights = {t: (1 + math.log(k)) * idf[t] for t, k in c.items()}
        norms[i] = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for t, w in weights.items():
            if t in shared:
                matrix[i, shared[t]] = w
    matrix /= norms[:, None]
    similarity = matrix @ matrix.T
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _lexrank(similarity: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Stationary distribution of a walk along similarity edges that jumps, with probability
    1 - _DAMPING (or from a sentence like no other), to a sentence drawn by `prior`."""
    jump = prior / prior.sum()
    rows = similarity.sum(axis=1)
    isolated = rows <= 0
    step = np.divide(similarity, rows[:, None], out=np.zeros_like(similarity), where=~isolated[:, None])
    rank = jump.copy()
    for _ in range(200):
        following = _DAMPING * (rank @ step + rank[isolated].sum() * jump) + (1 - _DAMPING) * jump
        converged = float(np.abs(following - rank).sum()) < 1e-10
        rank = following
        if converged:
            break
    return rank


def _quality(text: str) -> float:
    """How well a sentence reads on its own, 0 (never use) to 1."""
    if _BOILERPLATE.search(text):
        return 0.0
    words = _count_words(text)
    unfinished = text.rstrip(_CLOSERS)[-1] not in TERMINAL
    if unfinished and words < 6:
        return 0.0  # a title, an author list, a heading
    quality = 1.0
    if _VISUAL_REFERENCE.search(text):
        quality *= 0.3  # a listener cannot see Figure 3
    if words < 6:
        quality *= 0.4
    elif words > 60:
        quality *= 0.6
    if sum(map(str.isalpha, text)) < 0.6 * (len(text) - text.count(" ")):
        quality *= 0.3  # table rows, formulas
    if text[0].islower():
        quality *= 0.5  # the tail of a sentence the PDF broke
    if unfinished:
        quality *= 0.5  # a caption, a list item
    if _NEEDS_CONTEXT.match(text):
        quality *= 0.6  # "They then..." means little without the sentence before it
    elif _CONNECTIVE.match(text):
        quality *= 0.8
    return quality


def _is_english(texts: Iterable[str]) -> bool:
    """Whether English function words are a good share of the words (above 0.18 in every abstract
    tried, 0 in Dutch, German or French ones)."""
    words = [w for text in texts for w in _TERM.findall(text.lower())]
    return bool(words) and sum(w in _ENGLISH_MARKERS for w in words) >= 0.12 * len(words)


# --- output ----------------------------------------------------------------------------------------


def _render(sentences: list[str], english: bool) -> str:
    """One paragraph: each sentence ends with punctuation; English first person becomes third."""
    texts = [_terminate(s) for s in sentences]
    if english:
        texts = _third_person(texts)
    out = ""
    for text in texts:
        out += text if not out or out[-1] in "。！？" else " " + text
    return out


def _third_person(sentences: list[str]) -> list[str]:
    """Name the authors where a sentence first refers to them, say "they" after that.

    >>> _third_person(["In this paper, we propose X.", "We show our X is fast.", "X is new.", "It helps us."])
    ['The authors propose X.', 'They show their X is fast.', 'X is new.', 'It helps the authors.']
    """
    out: list[str] = []
    named = False
    for sentence in sentences:
        lead = _LEAD_IN.match(sentence)
        if lead and sentence[lead.end() :]:
            rest = sentence[lead.end() :]
            sentence = rest[0].upper() + rest[1:]
        sentence, named = _swap_first_person(sentence, named)
        out.append(sentence)
    return out


def _swap_first_person(sentence: str, named: bool) -> tuple[str, bool]:
    """(sentence in third person, whether it refers to the authors) given whether the previous
    sentence did."""
    parts: list[str] = []
    position = 0
    referred = False
    for m in _FIRST_PERSON.finditer(sentence):
        word = m.group(0).lower()
        new = _PRONOUN[word] if named or word == "ourselves" else _NAMING[word]
        if m.start() == 0:
            new = new[0].upper() + new[1:]
        parts += [sentence[position : m.start()], new]
        position = m.end()
        named = referred = True
    parts.append(sentence[position:])
    return "".join(parts), referred


def _terminate(sentence: str) -> str:
    """The sentence ending in punctuation that ends sentences (a period if it had none)."""
    sentence = sentence.strip()
    if sentence.rstrip(_CLOSERS)[-1:] in tuple(TERMINAL):
        return sentence
    return sentence.rstrip(" ,;:-–—/") + "."


def _ceiling(budget: int) -> int:
    """The most words a summary of target length `budget` may have when it ends on a whole sentence."""
    return budget + max(3, round(budget * _SLACK))


def _count_words(text: str) -> int:
    return len(_WORD.findall(text))


def _truncate(text: str, limit: int) -> str:
    """The first `limit` words of `text`, cut on a word boundary, ending with a period.

    >>> _truncate("one two, three four five", 3)
    'one two, three.'
    >>> _truncate("一二三四", 2)
    '一二.'
    """
    words = list(_WORD.finditer(text))
    if len(words) <= limit:
        return _terminate(text)
    cut = text[: words[limit - 1].end()]
    return _terminate(cut.rstrip(" ,;:-–—/([{\"'“‘") or cut)


def _fallback(paper: Paper, budget: int) -> str:
    """Text with no sentence in it (only markers or symbols): returned as it is, cut to size."""
    raw = " ".join((paper.abstract.strip() or paper.full_text).split())
    return _truncate(raw, budget) if raw else ""
