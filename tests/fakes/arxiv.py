"""A fake arXiv on 127.0.0.1 for tests: the API (/api/query) and PDFs (/pdf/<id>), in a thread.

    with FakeArxiv() as fake:           # fake.api_url == "http://127.0.0.1:PORT/api/query"
        fake.pdfs["2405.04517"] = make_pdf([["A title", "Abstract", ...], [...]])
        fake.failures += [500, "empty"] # how the next API requests are answered instead
        ...
        fake.requests                   # [(arrival time.time(), path?query), ...]

The API speaks arXiv's query language as far as papercast uses it: id_list (ids with or without
a version; a malformed id gets arXiv's HTTP 400 error feed, an unknown one an empty feed) and
search_query with cat:, all:, ti:, abs:, au:, submittedDate:[A TO B], AND / OR / ANDNOT and
parentheses; start, max_results, sortBy (submittedDate, lastUpdatedDate, relevance) and
sortOrder. Answers are Atom feeds in arXiv's recorded layout, built from the entries of
tests/data/arxiv/papers.atom.
"""

from __future__ import annotations

import copy
import io
import re
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

DATA = Path(__file__).parent.parent / "data" / "arxiv"
ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")


class FakeArxiv:
    """The server and what it saw. `failures` answers the next API requests (in order) with an HTTP
    status (int), "empty" (a feed without entries), "error-feed" (HTTP 200 with an error entry) or
    None (the true answer)."""

    def __init__(self, papers: Path = DATA / "papers.atom") -> None:
        tree = etree.parse(str(papers))
        self.template = tree.getroot()
        self.entries = [e for e in self.template.findall(f"{ATOM}entry")]
        for e in self.entries:
            self.template.remove(e)
        self.pdfs: dict[str, bytes] = {}
        self.requests: list[tuple[float, str]] = []
        self.failures: list[int | str | None] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.api_url = f"{self.base_url}/api/query"

    def __enter__(self) -> FakeArxiv:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def api_requests(self) -> list[dict[str, list[str]]]:
        """The query parameters of each API request, in order."""
        return [parse_qs(urlsplit(path).query) for _, path in self.requests if path.startswith("/api/")]

    # -- answering -------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append((time.time(), self.path))
                    failure = fake.failures.pop(0) if fake.failures and "/api/" in self.path else None
                status, ctype, body = fake.answer(self.path, failure)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status == 503:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def answer(self, path: str, failure: int | str | None) -> tuple[int, str, bytes]:
        url = urlsplit(path)
        if url.path.startswith("/pdf/"):
            return self._pdf(url.path[len("/pdf/") :])
        if url.path != "/api/query":
            return 404, "text/html", b"<html><body>Not found</body></html>"
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if isinstance(failure, int):
            return failure, "text/html", (DATA / "error-500.html").read_bytes()
        if failure == "error-feed":
            return 200, "application/atom+xml", _error_feed("max_results must be an integer")
        ids = [i for i in query.get("id_list", "").split(",") if i]
        bad = [i for i in ids if not _ID.fullmatch(i)]
        if bad:
            return 400, "application/atom+xml", _error_feed(f"incorrect id format for {bad[0]}", bad[0])
        found = self._by_ids(ids) if ids else list(self.entries)
        if query.get("search_query"):
            match = _compile(query["search_query"])
            found = [e for e in found if match(e)]
        found = _sort(found, query.get("sortBy", "relevance"), query.get("sortOrder", "descending"))
        start, size = int(query.get("start", "0")), int(query.get("max_results", "10"))
        page = [] if failure == "empty" else found[start : start + size]
        return 200, "application/atom+xml; charset=utf-8", self._feed(page, len(found), start, size)

    def _by_ids(self, ids: Sequence[str]) -> list[Any]:
        out = []
        for wanted in ids:
            base, _, version = re.fullmatch(r"(.+?)(v(\d+))?", wanted).groups()  # type: ignore[union-attr]
            for entry in self.entries:
                latest = _short_id(entry)
                if re.sub(r"v\d+$", "", latest) != base:
                    continue
                if version and int(version) > int(latest.rsplit("v", 1)[1]):
                    break  # no such version: arXiv answers with no entry
                if version:
                    entry = _with_version(entry, wanted)
                out.append(entry)
        return out

    def _feed(self, entries: Sequence[Any], total: int, start: int, size: int) -> bytes:
        root = copy.deepcopy(self.template)
        root.find(f"{OPENSEARCH}totalResults").text = str(total)
        root.find(f"{OPENSEARCH}startIndex").text = str(start)
        root.find(f"{OPENSEARCH}itemsPerPage").text = str(size)
        for entry in entries:
            root.append(copy.deepcopy(entry))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def _pdf(self, paper_id: str) -> tuple[int, str, bytes]:
        data = self.pdfs.get(re.sub(r"v\d+$", "", paper_id))
        if data is None:
            return 404, "text/html", b"<html><body>No PDF for this paper</body></html>"
        return 200, "application/pdf", data


def _short_id(entry: Any) -> str:
    return entry.findtext(f"{ATOM}id").split("/abs/")[-1]


def _with_version(entry: Any, versioned: str) -> Any:
    entry = copy.deepcopy(entry)
    latest = _short_id(entry)
    for el in entry.iter():
        if el.text and latest in el.text:
            el.text = el.text.replace(latest, versioned)
        for key, value in el.attrib.items():
            el.set(key, value.replace(latest, versioned))
    return entry


def _error_feed(message: str, bad_id: str = "") -> bytes:
    text = (DATA / "error-id.atom").read_text("utf-8").replace("{ID}", bad_id or "query")
    return text.replace(f"incorrect id format for {bad_id or 'query'}</summary>", f"{message}</summary>").encode()


def _sort(entries: list[Any], by: str, order: str) -> list[Any]:
    if by == "relevance":
        return entries
    key = {"submittedDate": "published", "lastUpdatedDate": "updated"}[by]
    return sorted(entries, key=lambda e: e.findtext(f"{ATOM}{key}"), reverse=order == "descending")


# -- arXiv's query language -------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(\(|\)|ANDNOT\b|AND\b|OR\b|\w+:"[^"]*"|\w+:\[[^\]]*\]|\w+:[^\s()]+)')
Matcher = Callable[[Any], bool]


def _compile(query: str) -> Matcher:
    tokens, pos = [], 0
    while pos < len(query.rstrip()):
        m = _TOKEN.match(query, pos)
        if not m:
            raise ValueError(f"cannot parse the query at {query[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    matcher, rest = _expression(tokens)
    if rest:
        raise ValueError(f"unexpected {rest[0]!r}")
    return matcher


def _expression(tokens: list[str]) -> tuple[Matcher, list[str]]:
    left, tokens = _operand(tokens)
    while tokens and tokens[0] in ("AND", "OR", "ANDNOT"):
        op, (right, tokens) = tokens[0], _operand(tokens[1:])
        left = _combine(op, left, right)
    return left, tokens


def _combine(op: str, a: Matcher, b: Matcher) -> Matcher:
    if op == "AND":
        return lambda e: a(e) and b(e)
    if op == "OR":
        return lambda e: a(e) or b(e)
    return lambda e: a(e) and not b(e)


def _operand(tokens: list[str]) -> tuple[Matcher, list[str]]:
    if tokens[0] == "(":
        inner, rest = _expression(tokens[1:])
        return inner, rest[1:]
    field, value = tokens[0].split(":", 1)
    return _field(field, value.strip('"')), tokens[1:]


def _field(field: str, value: str) -> Matcher:
    if field == "submittedDate":
        low, high = re.fullmatch(r"\[(\d{12}) TO (\d{12})\]", value).groups()  # type: ignore[union-attr]

        def submitted(e: Any) -> bool:
            when = datetime.fromisoformat(e.findtext(f"{ATOM}published").replace("Z", "+00:00"))
            return low <= when.strftime("%Y%m%d%H%M") <= high

        return submitted
    if field == "cat":
        return lambda e: value in [c.get("term") for c in e.findall(f"{ATOM}category")]
    texts = {
        "ti": lambda e: e.findtext(f"{ATOM}title"),
        "abs": lambda e: e.findtext(f"{ATOM}summary"),
        "au": lambda e: " ".join(a.findtext(f"{ATOM}name") for a in e.findall(f"{ATOM}author")),
    }
    if field == "all":
        return lambda e: value.lower() in " ".join(f(e) for f in texts.values()).lower()
    return lambda e: value.lower() in texts[field](e).lower()


# -- PDFs --------------------------------------------------------------------------------------------


def make_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A real PDF with one page per list of lines (Helvetica, 11 pt): what a text layer looks like."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 "
               b"/BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    kids = []
    for lines in pages:
        shown = " ".join(f"({_pdf_string(line)}) '" for line in lines)
        stream = zlib.compress(f"BT /F1 11 Tf 14 TL 72 760 Td {shown} ET".encode("cp1252", "replace"))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % content)
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def encrypted(pdf: bytes, password: str = "secret") -> bytes:
    """The PDF encrypted with a user password (RC4, which pypdf reads without extra packages)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt(pdf: bytes) -> bytes:
    """Starts like a PDF, then is not one: a download cut off and overwritten."""
    return pdf[:40] + bytes(range(256)) * 8
