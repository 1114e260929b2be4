"""`podcast mail EPISODE --to SUBSCRIBERS.csv [--dry-run] [--eml DIR]`."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from podcast.config import ShowConfig
from podcast.errors import ConfigError, InputError
from podcast.mail.edition import Edition
from podcast.mail.message import Recipient, Sender, build_message, sender_of
from podcast.mail.subscribers import Subscribers

PASSWORD_ENV = "PODCAST_SMTP_PASSWORD"


def mail(args: argparse.Namespace) -> None:
    from podcast.config import find_root, load_show
    from podcast.mail.edition import load_edition
    from podcast.mail.subscribers import read_subscribers

    folder: Path = args.episode_dir
    cfg = load_show(find_root(folder if folder.is_dir() else Path.cwd()))
    for w in cfg.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.dry_run and args.eml:
        raise InputError("--dry-run and --eml go alone: --eml writes the messages, --dry-run only lists them")
    if not cfg.mail.unsubscribe and not args.eml:  # .eml files go to a tool that may add its own
        raise ConfigError(f"{cfg.root / 'podcast.toml'} [mail]: unsubscribe is empty; give where readers "
                          'leave the list, e.g. unsubscribe = ["mailto:leave@example.org", '
                          '"https://example.org/unsubscribe?email={email}"] (mail providers require it)')
    ed = load_edition(cfg.show, folder)
    subs = read_subscribers(args.to)
    for line in subs.skipped:
        print(line)
    if not subs.recipients:
        raise InputError(f"{args.to}: no valid address in the list ({len(subs.skipped)} line(s) not usable)")
    sender = sender_of(cfg.mail, cfg.show.title, cfg.show.email)
    if args.eml:
        _write_eml(cfg, ed, sender, subs, args.eml)
    elif args.dry_run:
        _dry_run(cfg, ed, sender, subs)
    else:
        _send(cfg, ed, sender, subs)


def _extra(subs: Subscribers) -> str:
    parts = []
    if subs.repeated:
        parts.append(f"{subs.repeated} repeated address(es) mailed once")
    if subs.skipped:
        parts.append(f"{len(subs.skipped)} invalid line(s) skipped")
    return f" ({'; '.join(parts)})" if parts else ""


def _write_eml(cfg: ShowConfig, ed: Edition, sender: Sender, subs: Subscribers, out: Path) -> None:
    from podcast.fsutil import write_bytes

    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; give a folder for the .eml files")
    now = datetime.now(UTC)
    width = len(str(len(subs.recipients)))
    for n, r in enumerate(subs.recipients, start=1):
        name = f"{n:0{width}d}-{re.sub(r'[^A-Za-z0-9@._+-]', '_', r.address)}.eml"
        write_bytes(out / name, _bytes(build_message(ed, r, sender, cfg.mail, now)))
    print(f"wrote {len(subs.recipients)} message(s) of {ed.subject!r} to {out}{_extra(subs)}; "
          "nothing was sent")


def _bytes(msg: EmailMessage) -> bytes:
    from email.policy import SMTP

    return msg.as_bytes(policy=SMTP)


def _pending(subs: Subscribers, sent: set[str]) -> list[Recipient]:
    return [r for r in subs.recipients if r.key not in sent]


def _dry_run(cfg: ShowConfig, ed: Edition, sender: Sender, subs: Subscribers) -> None:
    from podcast.mail.deliveries import Deliveries
    from podcast.research.ledger import FILE, Ledger

    sent: set[str] = set()
    if (cfg.root / FILE).is_file():  # a dry run leaves no ledger behind where there was none
        with Ledger.open(cfg.root) as ledger:
            sent = Deliveries(ledger, ed.episode.slug).sent()
    pending = _pending(subs, sent)
    now = datetime.now(UTC)
    size = 0
    for r in pending:
        n = len(_bytes(build_message(ed, r, sender, cfg.mail, now)))
        size += n
        print(f"would send to {_shown(r)}: {ed.subject!r} ({n / 1000:.1f} kB)")
    earlier = len(subs.recipients) - len(pending)
    before = f", {earlier} sent before" if earlier else ""
    print(f"dry run: would send {len(pending)} message(s) ({size / 1000:.1f} kB) from {sender.address}"
          f"{before}{_extra(subs)}; nothing was sent")


def _placeholder(url: str) -> bool:
    from urllib.parse import urlsplit

    from podcast.config import PLACEHOLDER_HOSTS

    host = urlsplit(url).hostname or ""
    return host in PLACEHOLDER_HOSTS or host.endswith((".example", ".invalid"))


def _shown(r: Recipient) -> str:
    return f"{r.name} <{r.address}>" if r.name else r.address


def _send(cfg: ShowConfig, ed: Edition, sender: Sender, subs: Subscribers) -> None:
    from podcast.cache import show_lock
    from podcast.mail.deliveries import Deliveries
    from podcast.mail.send import LOOPBACK, TokenBucket, connect, deliver
    from podcast.research.ledger import Ledger

    settings, toml = cfg.mail, cfg.root / "podcast.toml"
    if not settings.smtp:
        raise ConfigError(f'{toml} [mail]: smtp is empty; set smtp = "host:port" (e.g. your provider\'s '
                          '"smtp.example.org:587"), or use --eml DIR / --dry-run')
    password = os.environ.get(PASSWORD_ENV, "")
    if settings.user and not password:
        raise ConfigError(f"{toml} [mail]: user is set but {PASSWORD_ENV} is empty; put the password in that "
                          "environment variable (never in a file)")
    if settings.user and settings.tls == "none" and settings.host not in LOOPBACK:
        raise ConfigError(f'{toml} [mail]: tls = "none" would send the password unencrypted to '
                          f'{settings.host}; use tls = "starttls" or "ssl"')
    if _placeholder(cfg.show.base_url):  # every link in every copy would lead there, past recall
        raise ConfigError(f"{toml}: base_url {cfg.show.base_url!r} is a placeholder and the mail links to "
                          "the site; set it to where the site is served (try --eml or --dry-run meanwhile)")
    where = f"{settings.host}:{settings.port}"
    t0 = time.perf_counter()
    # Two runs mailing one show at once would both see a reader as not yet sent.
    with show_lock(cfg.cache_dir / "mail", f"{cfg.show.title} (podcast mail)", timeout=0), \
            Ledger.open(cfg.root) as ledger:
        deliveries = Deliveries(ledger, ed.episode.slug)
        pending = _pending(subs, deliveries.sent())
        before = len(subs.recipients) - len(pending)
        if not pending:
            print(f"nothing to send: all {before} address(es) got {ed.subject!r} before{_extra(subs)}")
            return
        messages = ((r, build_message(ed, r, sender, settings, datetime.now(UTC))) for r in pending)
        with connect(settings, password) as smtp:
            done = deliver(smtp, where, sender, messages, len(pending), deliveries,
                           TokenBucket(settings.per_minute), print)
    earlier = f", {before} sent before" if before else ""
    refused = f", {len(done.refused)} refused by the server (not sent)" if done.refused else ""
    print(f"mailed {ed.subject!r} to {len(done.accepted)} subscriber(s) through {where}{earlier}{refused}"
          f"{_extra(subs)} in {time.perf_counter() - t0:.1f} s")
