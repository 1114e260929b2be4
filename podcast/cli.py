"""The `podcast` command. Stage modules are imported inside the commands, so `--help` is instant.

The library raises PodcastError; only this module turns it into `error: ...` and an exit code.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from podcast import __version__
from podcast.errors import PodcastError

if TYPE_CHECKING:
    from rich.console import Console

    from podcast.config import ShowConfig

EXAMPLES = {
    "init": (
        "example:\n  podcast init my-show\n"
        "  cd my-show && podcast build episodes/first-week && podcast publish"
    ),
    "new": (
        "examples:\n  podcast new episodes/2024-05-17 --from-newsletter issue-12.md "
        "--title 'Week of May 13' --date 2024-05-17\n"
        "  podcast new episodes/2024-05-17 --arxiv 2405.04517 https://arxiv.org/abs/2405.04434v2\n"
        "  podcast find && podcast new episodes/2024-05-17 --pick   # choose e.g. 1-3,5 from the list"
    ),
    "find": (
        "Lists each paper once: papers listed by an earlier find, or already in an episode, are left\n"
        "out (--all shows again those not in an episode). Defaults come from podcast.toml [find].\n\n"
        "example:\n  podcast find --since 2024-05-06 --until 2024-05-12 --category cs.LG,cs.CL \\\n"
        "      --include 'kv cache' --include attention --exclude diffusion --max 20\n"
        "  podcast new episodes/2024-05-17 --pick"
    ),
    "history": (
        "The seed workflow's CSV files: header Title,ArXiv Link,Paper Date,Date Added.\n"
        "import: every row of DOWNLOADED.csv (papers read) is seen and every row of --kept KEPT.csv\n"
        "picked, on its Date Added; a bad file imports nothing. export: every paper seen (Date Added:\n"
        "first seen), or with --kept the picked ones (Date Added: when picked).\n\n"
        "example:\n  podcast history import papers_downloaded.csv --kept papers_kept.csv\n"
        "  podcast history export seen.csv && podcast history export --kept kept.csv"
    ),
    "rank": (
        "Scores each paper in [0, 1] by what the show picked before (the history: 'podcast history\n"
        "import', finds and episodes), with a reason. Under 10 picked papers: ordered by date.\n\n"
        "example:\n  podcast rank candidates.csv          # Title,ArXiv Link,Paper Date,Date Added\n"
        "  podcast rank --arxiv 2405.04517 2405.04434 --json"
    ),
    "week": (
        "Finds the last [find] days' papers not in an episode yet, ranks them, makes episodes/<DATE> of\n"
        "the best [find] pick (best first), builds and publishes it, and only then records the week.\n"
        "Any failure publishes nothing and leaves no episode behind; a rerun starts over (from the cache).\n"
        "Exit 0: published, or nothing to do (no new papers); 1: an error, nothing published.\n\n"
        "example:\n  podcast week --dry-run        # what it would pick, with scores and reasons\n"
        "  podcast week                  # e.g. from cron: 0 6 * * FRI cd /path/to/show && podcast week\n"
        "  podcast week --to s3://my-bucket/podcast"
    ),
    "build": (
        "example:\n  podcast build episodes/2024-05-10-xlstm-deepseek-v2\n"
        "  RAY_ADDRESS=10.0.0.5:6379 podcast build --executor ray show-a/episodes/X show-b/episodes/Y"
    ),
    "publish": (
        "Every publish ends with `podcast check`; a site that fails it is never uploaded.\n"
        "--to uploads only what changed (by sha256), media first and feed.xml last. Endpoint:\n"
        "[publish] s3_endpoint in podcast.toml, else AWS_ENDPOINT_URL; credentials: AWS_ACCESS_KEY_ID,\n"
        "AWS_SECRET_ACCESS_KEY (environment only); region: AWS_REGION, else us-east-1.\n\n"
        "example:\n  podcast publish                 # into public/\n"
        "  podcast publish --site /var/www/podcast\n"
        "  podcast publish --to s3://my-bucket/podcast --dry-run   # list what would upload"
    ),
    "check": (
        "example:\n  podcast publish && podcast check            # the show's site folder\n"
        "  podcast check /var/www/podcast --loudness   # also decode the audio: -16 LUFS, -1 dBTP"
    ),
    "serve": (
        "The feed's links point at base_url: an app subscribed here fetches episodes from there,\n"
        "unless --base-url rewrites them (in the feeds and pages as served; no file changes).\n\n"
        "example:\n  podcast serve                                  # http://127.0.0.1:8000/\n"
        "  podcast serve --host 0.0.0.0 --base-url http://192.168.1.20:8000/\n"
        "        # a phone on the same network subscribes to http://192.168.1.20:8000/feed.xml,\n"
        "        # where 192.168.1.20 is this machine's LAN address (see `ip addr` or network settings)"
    ),
    "voices": "example:\n  podcast voices            # in a show folder: its profiles too",
    "mail": (
        "SUBSCRIBERS.csv has an 'email' column (and optionally 'name'). SMTP settings: podcast.toml [mail]\n"
        "(smtp, from, tls, user, per_minute, unsubscribe); the password: PODCAST_SMTP_PASSWORD only.\n"
        "Each copy the server accepts is recorded, so running it again after a failure resumes.\n\n"
        "example:\n  podcast mail episodes/2024-05-17 --to subscribers.csv --dry-run\n"
        "  PODCAST_SMTP_PASSWORD=... podcast mail episodes/2024-05-17 --to subscribers.csv\n"
        "  podcast mail episodes/2024-05-17 --to subscribers.csv --eml outbox/   # .eml files, nothing sent"
    ),
    "say": (
        "Inside a show folder: its voice profiles, [audio] settings and .cache; elsewhere the voices\n"
        "`podcast init` writes (host, cohost) and a per-user cache. The openai engine reads\n"
        "OPENAI_API_KEY and OPENAI_BASE_URL from the environment.\n\n"
        "example:\n  podcast say 'Hello, and welcome.' -o hello.mp3                  # the show's host\n"
        "  podcast say - --voice cohost -o notes.mp3 < notes.md\n"
        "  podcast say 'Hello.' --engine openai --voice alloy -o hello.mp3\n"
        "  podcast say 'Hello.' --engine openai --voice coral --model gpt-4o-mini-tts "
        "--instructions 'Warm and calm.' -o hello.mp3"
    ),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="podcast",
        description="Turn a week of AI research papers into a newsletter and a podcast episode.",
        epilog="Run 'podcast COMMAND --help' for a command's options and an example.",
    )
    p.add_argument("--version", action="version", version=f"papercast {__version__}")
    p.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    c = cmd("init", "Create a new show folder that builds and publishes as it is.")
    c.add_argument("dir", type=Path, help="folder to create (must not exist or be empty)")

    c = cmd("new", "Create an episode folder from a written newsletter or from arXiv papers.")
    c.add_argument("episode_dir", type=Path)
    source = c.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from-newsletter",
        type=Path,
        metavar="FILE.md",
        help="Markdown: intro, '# Paper title' sections (URL line optional), closing text after ---",
    )
    source.add_argument("--arxiv", nargs="+", metavar="ID_OR_URL",
                        help="arXiv ids (2405.04517, 2405.04517v2, hep-th/9711200) or abs/pdf links")
    source.add_argument("--pick", action="store_true",
                        help="choose among the papers of the last 'podcast find' (reads the choice on stdin)")
    source.add_argument("--from-find", action="store_true",
                        help="take every paper of the last 'podcast find' not in an episode yet")
    c.add_argument("--title", help="episode title (default: the newsletter's, else from the folder name)")
    c.add_argument("--date", help="publication date YYYY-MM-DD (default: the newsletter's, else the "
                                  "folder's date-name, else today)")
    c.add_argument("--force", action="store_true",
                   help="with --from-newsletter: write an existing folder's episode.toml and summaries anew")

    c = cmd("find", "List a period's new arXiv papers, best first by the show's history (see podcast rank).")
    c.add_argument("--since", metavar="DATE",
                   help="first submission day, YYYY-MM-DD (default: [find] days before --until)")
    c.add_argument("--until", metavar="DATE", help="last submission day, YYYY-MM-DD (default: today)")
    c.add_argument("--category", action="append", default=[], metavar="CAT",
                   help="arXiv category, repeatable or comma-separated (default: [find] categories)")
    c.add_argument("--include", action="append", default=[], metavar="TERM",
                   help="list only papers mentioning one of these terms (repeatable)")
    c.add_argument("--exclude", action="append", default=[], metavar="TERM",
                   help="leave out papers mentioning this term (repeatable)")
    c.add_argument("--max", type=int, metavar="N", help="list at most N papers (default: [find] max)")
    c.add_argument("--all", action="store_true",
                   help="list papers of earlier finds again (not those in episodes)")

    c = cmd("history", "Import or export the show's reading history (papers seen and picked) as CSV.")
    actions = c.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("import", help="read the seed workflow's CSV files into the history")
    a.add_argument("downloaded", type=Path, metavar="DOWNLOADED.csv", help="papers read: each becomes seen")
    a.add_argument("--kept", type=Path, metavar="KEPT.csv", help="papers kept: each becomes seen and picked")
    a = actions.add_parser("export", help="write the history as the seed workflow's CSV")
    a.add_argument("file", type=Path, metavar="FILE.csv")
    a.add_argument("--kept", action="store_true",
                   help="only the picked papers, dated when picked (default: every paper seen)")

    c = cmd("rank", "Score candidate papers by the show's history, best first, each with a reason.")
    c.add_argument("file", type=Path, nargs="?", metavar="FILE.csv",
                   help="the papers, in the history's CSV format (Title,ArXiv Link,Paper Date,Date Added)")
    c.add_argument("--arxiv", nargs="+", metavar="ID", help="papers the history knows, by arXiv id or link")
    c.add_argument("--json", action="store_true", help="print a JSON list of {id, title, score, why}")

    c = cmd("week", "The whole week in one command: find, rank, pick, new, build, publish.")
    c.add_argument("--dry-run", action="store_true", help="show what would be picked and why; write nothing")
    c.add_argument("--until", metavar="DATE", help="the week's last day, the episode's date (default: today)")
    c.add_argument("--to", metavar="s3://BUCKET/PREFIX", help="publish to S3 instead of the [publish] site")

    c = cmd("build", "Build an episode: summaries, script, speech, mix, tags, transcripts, newsletter.")
    c.add_argument("episode_dir", type=Path, nargs="+",
                   help="an episode folder; several (of one show or several) build one after another, "
                        "or all at once with --executor ray")
    c.add_argument("--executor", choices=("local", "ray"),
                   help="where the voices speak: local (this machine's cores) or ray (the Ray cluster "
                        "at RAY_ADDRESS, else a Ray started here; needs the ray extra). "
                        "Default: [render] executor")

    c = cmd("publish", "Write the site (feed.xml, episodes, pages) from every built episode.")
    where = c.add_mutually_exclusive_group()
    where.add_argument("--site", type=Path, help="output folder (default: [publish] site, 'public')")
    where.add_argument("--to", metavar="s3://BUCKET/PREFIX", help="upload to S3-compatible storage instead")
    c.add_argument("--dry-run", action="store_true", help="with --to: list what would upload, upload nothing")

    c = cmd("check", "Check a published site against the podcast standards: feed, audio, tags, transcripts.")
    c.add_argument("site", type=Path, nargs="?", help="site folder (default: [publish] site, 'public')")
    c.add_argument("--loudness", action="store_true",
                   help="also decode each MP3: loudness, true peak and clean decoding (slower)")

    c = cmd("serve", "Serve a published site over HTTP with byte ranges, to try it in a browser or an app.")
    c.add_argument("site", type=Path, nargs="?", help="site folder (default: [publish] site, 'public')")
    c.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; 0.0.0.0 for other devices on the network)")
    c.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    c.add_argument("--base-url", metavar="URL",
                   help="serve the feeds and pages with base_url replaced by URL, e.g. http://192.168.1.20:8000/")

    c = cmd("mail", "Send the episode's newsletter by email, one copy per subscriber, through SMTP.")
    c.add_argument("episode_dir", type=Path, help="a built episode folder")
    c.add_argument("--to", type=Path, required=True, metavar="SUBSCRIBERS.csv", help="the list to mail")
    c.add_argument("--dry-run", action="store_true", help="list what would be sent, send nothing")
    c.add_argument("--eml", type=Path, metavar="DIR",
                   help="write one .eml file per subscriber instead of sending")

    cmd("voices", "List the TTS engines and voice profiles, and whether each can speak on this machine.")

    c = cmd("say", "Speak any text into an MP3, normalized, cached and mastered exactly like an episode.")
    c.add_argument("text", help="the text to speak, or - to read it from stdin")
    c.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.mp3", help="the MP3 to write")
    c.add_argument("--voice", help="a voice profile (default: the host); with --engine, one of its voices")
    c.add_argument("--engine", help="speak with this engine directly, no profile (see `podcast voices`)")
    c.add_argument("--model", default="", help="openai: tts-1, tts-1-hd or gpt-4o-mini-tts")
    c.add_argument("--instructions", default="", help="openai gpt-4o-mini-tts: how to speak")
    c.add_argument("--title", default="", help="the MP3's title tag (default: the first words)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], None]] = {
        "init": _init,
        "new": _new,
        "find": _find,
        "build": _build,
        "publish": _publish,
        "check": _check,
        "serve": _serve,
        "voices": _voices,
        "say": _say,
        "mail": _lazy("podcast.mail.commands", "mail"),
        "history": _lazy("podcast.editor.commands", "history"),
        "rank": _lazy("podcast.editor.commands", "rank"),
        "week": _lazy("podcast.editor.week", "week"),
    }
    try:
        commands[args.command](args)
    except PodcastError as e:
        if args.debug:
            raise
        from podcast.text import clean

        # Messages quote outside text (a server's answer, a file name): no escape reaches the terminal.
        print(f"error: {clean(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`podcast rank ... | head`): not an error of ours. Point stdout at
        # /dev/null so the interpreter's flush at exit does not raise again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], None]:
    """A command whose handler lives in its stage's module, imported only when that command runs."""

    def run(args: argparse.Namespace) -> None:
        import importlib

        getattr(importlib.import_module(module), name)(args)

    return run


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _warn(message: str) -> None:
    """A warning on stderr as one line (rich would wrap it mid-sentence), its text never read as markup."""
    from rich.markup import escape

    _console().print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def _show(start: Path | None = None, *, publishing: bool = False) -> ShowConfig:
    """The show's settings; with `publishing`, its warnings too (a placeholder base_url matters only
    to what is published: the feed's and pages' links)."""
    from podcast.config import find_root, load_show

    cfg = load_show(find_root(start or Path.cwd()))
    for w in cfg.warnings if publishing else ():
        _warn(w)
    return cfg


def _init(args: argparse.Namespace) -> None:
    from podcast.scaffold import init_show

    made = init_show(args.dir)
    then = f"cd {made} && podcast build episodes/first-week && podcast publish"
    print(f"created {made}: edit podcast.toml, then: {then}")


def _new(args: argparse.Namespace) -> None:
    if args.from_newsletter:
        from podcast.scaffold import new_from_newsletter

        folder = new_from_newsletter(args.episode_dir, args.from_newsletter, title=args.title, day=args.date,
                                     force=args.force)
        print(f"created {folder}: review its summaries/, then: podcast build {folder}")
        return
    if args.force:
        raise PodcastError("--force goes with --from-newsletter; papers from arXiv go in a new folder")
    from podcast.research import discover

    start = args.episode_dir.parent
    cfg = _show(start if start.is_dir() else None)
    if args.arxiv:
        folder, listings = discover.new_from_arxiv(
            cfg, args.episode_dir, args.arxiv, title=args.title, day=args.date
        )
    else:
        folder, listings = discover.new_from_find(
            cfg, args.episode_dir, ask=_ask if args.pick else None, say=print, title=args.title, day=args.date
        )
    n = len(listings)
    print(f"created {folder} with {n} paper{'' if n == 1 else 's'}: edit its episode.toml "
          f"(title, intro, outro) if you like, then: podcast build {folder}")


def _ask(prompt: str) -> str | None:
    """One line from stdin (a terminal, or a pipe in scripts and tests); None at the end of input."""
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not sys.stdin.isatty():  # echo a piped answer, so the transcript reads like a session
        print(line.strip())
    return line.strip() if line else None


def _find(args: argparse.Namespace) -> None:
    from podcast.research import discover

    cfg = _show()
    query = discover.find_query(cfg.find, since=args.since, until=args.until, categories=args.category,
                                include=args.include, exclude=args.exclude, max=args.max)
    t0 = time.perf_counter()
    found = discover.find(cfg, query, again=args.all)
    for line in found.lines():
        print(line)
    if found.ranking and found.listings:
        print(found.ranking.note)
    n = len(found.listings)
    before = f"; {found.skipped} listed before or in an episode left out" if found.skipped else ""
    then = "; choose with: podcast new episodes/NAME --pick" if n else ""
    print(f"{n} new paper{'' if n == 1 else 's'} ({query.describe()}){before}, "
          f"in {time.perf_counter() - t0:.1f} s{then}")


def _build(args: argparse.Namespace) -> None:
    from podcast.build import build_episode
    from podcast.progress import build_progress

    if len(args.episode_dir) > 1:
        return _lazy("podcast.build_many", "build_many")(args)
    from podcast.build_many import with_executor

    folder = args.episode_dir[0]
    cfg = with_executor(_show(folder if folder.is_dir() else None), args.executor)
    console = _console()
    with build_progress(console) as progress:
        report = build_episode(folder, cfg, progress=progress,
                               log=lambda m: console.print(m, soft_wrap=True, markup=False))
    for w in report.warnings:
        _warn(w)
    ep = report.episode
    spoken = len(report.rendering.synthesized_sections)
    minutes, seconds = divmod(round(ep.duration), 60)
    brief = " (and a {}:{:02d} brief)".format(*divmod(round(ep.brief.duration), 60)) if ep.brief else ""
    print(
        f"built {ep.slug}: {minutes}:{seconds:02d} of audio{brief}, {len(ep.chapters)} chapters, "
        f"{spoken} of {len(ep.chapters)} sections spoken anew, {report.summaries_by()}, "
        f"in {report.seconds:.1f} s -> {folder / 'build' / ep.audio}"
    )


def _publish(args: argparse.Namespace) -> None:
    from podcast.publish.local import SiteCheckFailed, publish_site

    if args.dry_run and not args.to:
        raise PodcastError("--dry-run goes with --to s3://BUCKET/PREFIX; a local publish has no dry run")
    cfg = _show(publishing=True)
    site = args.site or (cfg.root / cfg.publish.site)
    t0 = time.perf_counter()
    try:
        if args.to:
            _upload(cfg, args.to, args.dry_run, t0)
            return
        report = publish_site(cfg, site)
    except SiteCheckFailed as e:
        for problem in e.problems:
            print(problem)
        raise
    print(
        f"published {report.episodes} episode(s) to {site} ({report.written} files written, "
        f"{report.unchanged} unchanged) in {time.perf_counter() - t0:.1f} s; feed: {site / 'feed.xml'}"
    )


def _upload(cfg: ShowConfig, url: str, dry_run: bool, t0: float) -> None:
    from podcast.publish.s3 import describe_bytes, publish_to_s3

    report, up = publish_to_s3(cfg, url, dry_run=dry_run)
    took = time.perf_counter() - t0
    if dry_run:
        for c in up.changes:
            print(f"would upload {up.target.url(c.rel)} ({describe_bytes(c.size)}, {c.reason})")
        size = describe_bytes(sum(c.size for c in up.changes))
        print(f"dry run: would upload {len(up.changes)} ({size}), unchanged {len(up.unchanged)}; "
              f"nothing was uploaded ({took:.1f} s)")
        return
    print(
        f"published {report.episodes} episode(s) to {up.target.url()}: uploaded {len(up.uploaded)} "
        f"({describe_bytes(up.bytes)}), unchanged {len(up.unchanged)}, in {took:.1f} s; "
        f"feed: {up.target.url('feed.xml')}"
    )


def _site_and_show(site: Path | None) -> tuple[Path, ShowConfig | None]:
    """The site folder a command works on: as given, else the show's [publish] site, else public/."""
    from podcast.config import find_root

    try:
        find_root(Path.cwd())
    except PodcastError:
        return site or Path("public"), None
    cfg = _show()
    return site or (cfg.root / cfg.publish.site), cfg


def _check(args: argparse.Namespace) -> None:
    from podcast.publish.check.site import CheckFailed, inspect_site

    site, cfg = _site_and_show(args.site)
    t0 = time.perf_counter()
    if cfg is None:
        report = inspect_site(site, loudness=args.loudness)
    else:  # the show's own loudness targets, which may differ from Apple's -16 LUFS
        report = inspect_site(site, loudness=args.loudness, target_lufs=cfg.audio.loudness,
                              max_true_peak=cfg.audio.true_peak)
    for line in report.loudness:
        print(line)
    if report.loudness:
        from podcast.publish.check.media import CONVENTION

        print(CONVENTION)
    for problem in report.problems:
        print(problem)
    episodes = f"{report.episodes} episode{'' if report.episodes == 1 else 's'}"
    n = len(report.problems)
    if n:
        raise CheckFailed(f"{n} problem{'' if n == 1 else 's'} in {site} ({episodes})")
    print(f"ok: {episodes}, 0 problems ({site}, {time.perf_counter() - t0:.1f} s)")


def _serve(args: argparse.Namespace) -> None:
    from podcast.publish.serve import SiteServer, published_base_url, serve

    site, _ = _site_and_show(args.site)

    def ready(server: SiteServer) -> None:
        here, port = server.url, server.server_address[1]
        lines = [f"serving {site} at {here} (feed: {here}feed.xml); Ctrl+C stops"]
        published = published_base_url(site)
        if args.base_url:
            lines.append(f"links to {published} are served as links to {server.base_url}")
        elif published and published != here:
            lines.append(f"note: the feed's links point at {published} (base_url): an app subscribed here "
                         f"fetches episodes from there. Add --base-url {here} to serve them from here.")
        lan = f"http://<this machine's LAN address>:{port}/"
        if args.host in ("0.0.0.0", "::"):
            lines.append(f"other devices: {lan} (see `ip addr` or the network settings), "
                         "with --base-url set to that same URL")
        else:
            lines.append(f"to subscribe from a phone on the same network: --host 0.0.0.0 --base-url {lan}")
        print("\n".join(lines), flush=True)

    serve(site, args.host, args.port, base_url=args.base_url, ready=ready,
          log=lambda line: print(line, file=sys.stderr))
    print("stopped")


def _voices(args: argparse.Namespace) -> None:
    from podcast.voices_cmd import show_here, voices_report

    cfg = show_here(Path.cwd())
    print(voices_report(cfg))


def _say(args: argparse.Namespace) -> None:
    from podcast.voices_cmd import pick_voice, say, show_here, user_cache_dir

    cfg = show_here(Path.cwd())
    text = sys.stdin.read() if args.text == "-" else args.text
    options = {"model": args.model, "instructions": args.instructions}
    profile = pick_voice(cfg, args.voice, args.engine, options)
    if cfg is None:
        from podcast.settings import AudioSettings

        audio, cache = AudioSettings(), user_cache_dir()
    else:
        audio, cache = cfg.audio, cfg.cache_dir
    said = say(text, args.output, profile, audio, cache, title=args.title)
    minutes, seconds = divmod(round(said.duration), 60)
    print(
        f"said {said.words} words as {profile.name} ({profile.engine} {profile.voice}): "
        f"{minutes}:{seconds:02d} of audio, {said.spoken} of {said.sections} parts spoken anew, "
        f"in {said.seconds:.1f} s -> {said.path}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
