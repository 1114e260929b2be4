"""Publish the site to S3-compatible storage (AWS S3, MinIO, R2, ...): what changed, media first, feed last.

    podcast publish --to s3://my-bucket/podcast

The site is first written to a temp folder by the local publish and checked with `podcast check`,
so a broken site is never uploaded. Then each file is compared with its object by content hash
(our sha256 rides along as x-amz-meta-sha256, read back with HEAD), and only what differs is
uploaded: a week's new episode costs one MP3, its sidecars and the pages, never the old media.
Media go first, then the pages, then newsletter.xml and feed.xml; an upload that still fails
after the retries stops everything, so the published feed never names an object that is missing.

Credentials come only from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN or AWS_PROFILE, as boto3 reads them); they are never written or logged.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from podcast.errors import PublishError
from podcast.publish.feed import FEED_PATH
from podcast.publish.mediatypes import cache_control, content_type

if TYPE_CHECKING:
    from podcast.config import ShowConfig
    from podcast.publish.local import PublishReport

HASH_KEY = "sha256"
"""User-metadata key of each object's content hash: the header x-amz-meta-sha256."""
MULTIPART_BYTES = 64 << 20
"""Files larger than this go up in parts, so a dropped connection costs one part, not the episode."""
PART_BYTES = 16 << 20
HEAD_THREADS = 8
DEFAULT_REGION = "us-east-1"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class S3Target:
    """Where the site goes: a bucket and a key prefix ("" or ending in "/")."""

    bucket: str
    prefix: str = ""

    def key(self, rel: str) -> str:
        return self.prefix + rel

    def url(self, rel: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{rel}"


@dataclass(frozen=True)
class Retry:
    """How hard to try each request, and then each object, before giving up."""

    request_attempts: int = 5
    """botocore's attempts per request (its standard mode: dropped connections, 5xx, throttling)."""
    object_attempts: int = 3
    """Our tries per object when the connection keeps failing past one request's attempts."""
    first_delay: float = 2.0
    """Seconds before our second try of an object; doubled for each further try."""


DEFAULT_RETRY = Retry()


@dataclass(frozen=True)
class Change:
    """A file whose object is missing or differs: it is (or would be, in a dry run) uploaded."""

    rel: str
    size: int
    reason: str
    """"new", "changed" (other bytes) or "metadata" (same bytes, other Content-Type or Cache-Control)."""


@dataclass(frozen=True)
class UploadReport:
    target: S3Target
    changes: tuple[Change, ...]
    """What differed, in upload order (feed.xml last when it changed)."""
    uploaded: tuple[str, ...]
    """Site-relative paths uploaded, in order; empty in a dry run."""
    unchanged: tuple[str, ...]

    @property
    def bytes(self) -> int:
        done = set(self.uploaded)
        return sum(c.size for c in self.changes if c.rel in done)


@dataclass(frozen=True)
class _Local:
    rel: str
    path: Path
    size: int
    sha256: str
    content_type: str
    cache_control: str


# --- entry points -------------------------------------------------------------------------------------


def parse_s3_url(url: str) -> S3Target:
    """The bucket and prefix of an s3:// URL.

    >>> parse_s3_url("s3://my-bucket/shows/papers")
    S3Target(bucket='my-bucket', prefix='shows/papers/')
    >>> parse_s3_url("s3://my-bucket").prefix
    ''
    """
    m = re.fullmatch(r"s3://([^/]+)(?:/(.*))?", url.strip())
    if not m or not _BUCKET.fullmatch(m.group(1)):
        raise PublishError(f"--to {url!r} is not an S3 location; write it as s3://BUCKET/PREFIX")
    prefix = "/".join(part for part in (m.group(2) or "").split("/") if part)
    if any(part in (".", "..") for part in prefix.split("/")):
        raise PublishError(f"--to {url!r}: the prefix may not contain '.' or '..' parts")
    return S3Target(m.group(1), prefix + "/" if prefix else "")


def publish_to_s3(
    cfg: ShowConfig,
    url: str,
    *,
    dry_run: bool = False,
    retry: Retry = DEFAULT_RETRY,
) -> tuple[PublishReport, UploadReport]:
    """Write the site to a temp folder, check it, then upload what changed to `url` (s3://BUCKET/PREFIX).

    Raises SiteCheckFailed before any upload when the site fails `podcast check`, and PublishError
    naming the object and the reason when an upload fails (feed.xml is then not uploaded).
    """
    from podcast.publish.local import SiteCheckFailed, publish_site

    target = parse_s3_url(url)
    with tempfile.TemporaryDirectory(prefix="papercast-site-") as tmp:
        try:
            report = publish_site(cfg, Path(tmp))
        except SiteCheckFailed as e:
            n = len(e.problems)
            raise SiteCheckFailed(
                f"the site fails podcast check with {n} problem{'' if n == 1 else 's'}, first: "
                f"{e.problems[0]}; nothing was uploaded to {target.url()}",
                e.problems,
            ) from None
        client = make_client(cfg.publish.s3_endpoint, retry)
        uploaded = upload_site(client, Path(tmp), report.files, target, dry_run=dry_run, retry=retry)
    return report, uploaded


def make_client(endpoint: str = "", retry: Retry = DEFAULT_RETRY) -> Any:
    """A boto3 S3 client for `endpoint` (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS itself).

    Region: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1. Credentials: boto3's own lookup,
    which starts with the AWS_* variables; a PublishError says what to set when there are none.
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise PublishError("publishing to s3:// needs boto3: pip install 'papercast[s3]'") from None
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    if endpoint and not re.fullmatch(r"https?://[^/\s]+/?", endpoint):
        raise PublishError(
            f"S3 endpoint {endpoint!r} is not a URL like https://s3.example.net; fix [publish] "
            "s3_endpoint in podcast.toml or AWS_ENDPOINT_URL"
        )
    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise PublishError(
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) "
            "in the environment"
        )
    region = os.environ.get("AWS_REGION") or session.region_name or DEFAULT_REGION
    config = Config(
        retries={"mode": "standard", "total_max_attempts": retry.request_attempts},
        connect_timeout=10,
        read_timeout=60,
        # Path-style URLs (endpoint/bucket/key) are what every S3-compatible server understands.
        s3={"addressing_style": "path"} if endpoint else {},
    )
    return session.client("s3", endpoint_url=endpoint or None, region_name=region, config=config)


def upload_site(
    client: Any,
    site: Path,
    files: Sequence[str],
    target: S3Target,
    *,
    dry_run: bool = False,
    retry: Retry = DEFAULT_RETRY,
) -> UploadReport:
    """Upload the files (site-relative paths) of the site folder `site` whose objects differ.

    Order: media and sidecars, then pages, then newsletter.xml, feed.xml last. The first upload
    that fails after `retry` stops the rest with a PublishError naming the object and the reason.
    """
    local = [_describe(site, rel) for rel in upload_order(files)]
    remote = _remote_objects(client, target, local)
    changes = [c for c in (_compare(obj, remote.get(obj.rel)) for obj in local) if c is not None]
    changed = {c.rel for c in changes}
    unchanged = tuple(obj.rel for obj in local if obj.rel not in changed)
    uploaded: list[str] = []
    if not dry_run:
        for obj in local:
            if obj.rel in changed:
                _upload(client, obj, target, retry, done=len(uploaded), todo=len(changes))
                uploaded.append(obj.rel)
    return UploadReport(target, tuple(changes), tuple(uploaded), unchanged)


def upload_order(files: Sequence[str]) -> list[str]:
    """Media and sidecars first, then pages, then the newsletter feed, feed.xml last (stable otherwise).

    >>> upload_order(["feed.xml", "index.html", "newsletter.xml", "e/e.mp3", "e/index.html", "cover.jpg"])
    ['e/e.mp3', 'cover.jpg', 'index.html', 'e/index.html', 'newsletter.xml', 'feed.xml']
    """

    def rank(rel: str) -> int:
        suffix = PurePosixPath(rel).suffix.lower()
        return 3 if rel == FEED_PATH else 2 if suffix == ".xml" else 1 if suffix == ".html" else 0

    return sorted(files, key=rank)


# --- what differs -------------------------------------------------------------------------------------


def _describe(site: Path, rel: str) -> _Local:
    path = site / rel
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return _Local(rel, path, path.stat().st_size, digest.hexdigest(), content_type(rel), cache_control(rel))


def _remote_objects(client: Any, target: S3Target, local: Sequence[_Local]) -> dict[str, dict[str, Any]]:
    """HEAD of each object that exists with the local file's size: the only ones that may be unchanged."""
    sizes: dict[str, int] = {}
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=target.prefix)
        for page in pages:
            sizes.update((o["Key"], o["Size"]) for o in page.get("Contents", ()))
    except _boto_errors() as e:
        raise _failure(e, f"cannot list {target.url()}", client) from None
    same_size = [obj for obj in local if sizes.get(target.key(obj.rel)) == obj.size]

    def head(obj: _Local) -> tuple[str, dict[str, Any]]:
        try:
            return obj.rel, client.head_object(Bucket=target.bucket, Key=target.key(obj.rel))
        except _boto_errors() as e:
            if _status(e) == 404:  # deleted since the listing: it is simply new
                return obj.rel, {}
            raise _failure(e, f"cannot read {target.url(obj.rel)}", client) from None

    with ThreadPoolExecutor(HEAD_THREADS) as pool:
        return {rel: found for rel, found in pool.map(head, same_size) if found}


def _compare(obj: _Local, head: dict[str, Any] | None) -> Change | None:
    if not head:
        return Change(obj.rel, obj.size, "new")
    if head.get("Metadata", {}).get(HASH_KEY) != obj.sha256:
        return Change(obj.rel, obj.size, "changed")
    if head.get("ContentType") != obj.content_type or head.get("CacheControl") != obj.cache_control:
        return Change(obj.rel, obj.size, "metadata")
    return None


# --- uploading ----------------------------------------------------------------------------------------


def _upload(client: Any, obj: _Local, target: S3Target, retry: Retry, *, done: int, todo: int) -> None:
    """Upload one file, trying again with exponential backoff when the connection fails."""
    extra = {
        "ContentType": obj.content_type,
        "CacheControl": obj.cache_control,
        "Metadata": {HASH_KEY: obj.sha256},
    }
    key = target.key(obj.rel)
    for attempt in range(1, retry.object_attempts + 1):
        try:
            if obj.size > MULTIPART_BYTES:
                _upload_parts(client, obj.path, target.bucket, key, extra)
            else:
                with open(obj.path, "rb") as body:
                    client.put_object(Bucket=target.bucket, Key=key, Body=body, **extra)
            return
        except _boto_errors() as e:
            if attempt < retry.object_attempts and _transient(e):
                time.sleep(retry.first_delay * 2 ** (attempt - 1))
                continue
            held = "the published feed is still the previous one" if obj.rel == FEED_PATH else (
                f"{FEED_PATH} was not uploaded, so the published feed names no missing media")
            raise _failure(
                e,
                f"uploading {obj.rel} to {target.url(obj.rel)} failed ({done} of {todo} changed files "
                f"were uploaded before it)",
                client,
                then=f"{held}; fix that and publish again",
            ) from None


def _upload_parts(client: Any, path: Path, bucket: str, key: str, extra: dict[str, Any]) -> None:
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=PART_BYTES)
    try:
        client.upload_file(str(path), bucket, key, ExtraArgs=extra, Config=config)
    except S3UploadFailedError as e:
        # boto3 wraps a part's ClientError in S3UploadFailedError: surface the original, with its code.
        cause = e.__cause__ or e.__context__
        if isinstance(cause, Exception):
            raise cause from None
        raise


def _transient(e: BaseException) -> bool:
    """A connection that failed or dropped, or a server error: worth another try after a pause."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    if isinstance(e, BotoConnectionError | HTTPClientError):
        return True
    status = _status(e)
    return status is not None and status >= 500


def _status(e: BaseException) -> int | None:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status else None
    return None


def _failure(e: BaseException, what: str, client: Any, *, then: str = "") -> PublishError:
    """One line: what failed, why (the service's error code and message), and what to do."""
    response = getattr(e, "response", None)
    endpoint = getattr(getattr(client, "meta", None), "endpoint_url", "") or "S3"
    if isinstance(response, dict) and response.get("Error"):
        code = str(response["Error"].get("Code", "")) or str(_status(e) or "error")
        message = str(response["Error"].get("Message", "")).strip()
        reason = f"{code}: {message}" if message and message != code else code
        hint = _HINTS.get(code, "")
    else:
        reason = str(e) or type(e).__name__
        hint = f"check that {endpoint} is reachable" if _transient(e) else ""
    text = f"{what}: {reason}"
    for extra in (hint, then):
        if extra:
            text += f"; {extra}"
    return PublishError(" ".join(text.split()))


_HINTS = {
    "NoSuchBucket": "create the bucket, or fix the bucket name in --to",
    "AccessDenied": "the credentials need s3:ListBucket, s3:GetObject and s3:PutObject on the bucket",
    "InvalidAccessKeyId": "check AWS_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "check AWS_SECRET_ACCESS_KEY",
    "ExpiredToken": "refresh the credentials (AWS_SESSION_TOKEN)",
}


def describe_bytes(n: int) -> str:
    """A short human size.

    >>> describe_bytes(512), describe_bytes(1_234_567)
    ('512 B', '1.2 MB')
    """
    size, unit = float(n), "B"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            break
        size /= 1000
    return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"


def _boto_errors() -> tuple[type[Exception], ...]:
    """What boto3 raises for a failed request (imported late: boto3 is an optional extra)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, Boto3Error)
