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
        "example:\n  podcast new episodes/2024-05-17 --from-newsletter issue-12.md "
        "--title 'Week of May 13' --date 2024-05-17"
    ),
    "build": "example:\n  podcast build episodes/2024-05-10-xlstm-deepseek-v2",
    "publish": (
        "example:\n  podcast publish                 # into public/\n"
        "  podcast publish --site /var/www/podcast"
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

    c = cmd("new", "Create an episode folder from an existing written newsletter.")
    c.add_argument("episode_dir", type=Path)
    c.add_argument(
        "--from-newsletter",
        type=Path,
        required=True,
        metavar="FILE.md",
        help="Markdown: intro, '# Paper title' sections (URL line optional), closing text after ---",
    )
    c.add_argument("--title", help="episode title (default: the newsletter's, else the folder name)")
    c.add_argument("--date", help="publication date YYYY-MM-DD (default: the newsletter's, else today)")

    c = cmd("build", "Build an episode: summaries, script, speech, mix, tags, transcripts, newsletter.")
    c.add_argument("episode_dir", type=Path)

    c = cmd("publish", "Write the site (feed.xml, episodes, pages) from every built episode.")
    c.add_argument("--site", type=Path, help="output folder (default: [publish] site, 'public')")

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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], None]] = {
        "init": _init,
        "new": _new,
        "build": _build,
        "publish": _publish,
        "check": _check,
        "serve": _serve,
    }
    try:
        commands[args.command](args)
    except PodcastError as e:
        if args.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
    return 0


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _show(start: Path | None = None) -> ShowConfig:
    from podcast.config import find_root, load_show

    cfg = load_show(find_root(start or Path.cwd()))
    for w in cfg.warnings:
        _console().print(f"[yellow]warning:[/] {w}")
    return cfg


def _init(args: argparse.Namespace) -> None:
    from podcast.scaffold import init_show

    made = init_show(args.dir)
    then = f"cd {made} && podcast build episodes/first-week && podcast publish"
    print(f"created {made}: edit podcast.toml, then: {then}")


def _new(args: argparse.Namespace) -> None:
    from podcast.scaffold import new_from_newsletter

    folder = new_from_newsletter(args.episode_dir, args.from_newsletter, title=args.title, day=args.date)
    print(f"created {folder}: review its summaries/, then: podcast build {folder}")


def _build(args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from podcast.build import build_episode

    folder = args.episode_dir
    cfg = _show(folder if folder.is_dir() else None)
    console = _console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("speaking", total=None)

        def progress(done: int, total: int, title: str) -> None:
            bar.update(task, completed=done, total=total, description=f"speaking: {title[:40]}")

        report = build_episode(folder, cfg, progress=progress, log=lambda m: console.print(m))
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    ep = report.episode
    spoken = len(report.rendering.synthesized_sections)
    minutes, seconds = divmod(round(ep.duration), 60)
    print(
        f"built {ep.slug}: {minutes}:{seconds:02d} of audio, {len(ep.chapters)} chapters, "
        f"{spoken} of {len(ep.chapters)} sections spoken anew, summaries by {report.summarizer}, "
        f"in {report.seconds:.1f} s -> {folder / 'build' / ep.audio}"
    )


def _publish(args: argparse.Namespace) -> None:
    from podcast.publish import publish_site

    cfg = _show()
    site = args.site or (cfg.root / cfg.publish.site)
    t0 = time.perf_counter()
    report = publish_site(cfg, site)
    print(
        f"published {report.episodes} episode(s) to {site} ({report.written} files written, "
        f"{report.unchanged} unchanged) in {time.perf_counter() - t0:.1f} s; feed: {site / 'feed.xml'}"
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
    from podcast.check import CheckFailed, inspect_site

    site, cfg = _site_and_show(args.site)
    t0 = time.perf_counter()
    if cfg is None:
        report = inspect_site(site, loudness=args.loudness)
    else:  # the show's own loudness targets, which may differ from Apple's -16 LUFS
        report = inspect_site(site, loudness=args.loudness, target_lufs=cfg.audio.loudness,
                              max_true_peak=cfg.audio.true_peak)
    for problem in report.problems:
        print(problem)
    episodes = f"{report.episodes} episode{'' if report.episodes == 1 else 's'}"
    n = len(report.problems)
    if n:
        raise CheckFailed(f"{n} problem{'' if n == 1 else 's'} in {site} ({episodes})")
    print(f"ok: {episodes}, 0 problems ({site}, {time.perf_counter() - t0:.1f} s)")


def _serve(args: argparse.Namespace) -> None:
    from podcast.serve import SiteServer, published_base_url, serve

    site, _ = _site_and_show(args.site)

    def ready(server: SiteServer) -> None:
        here, port = server.url, server.server_address[1]
        lines = [f"serving {site} at {here} (feed: {here}feed.xml); Ctrl+C stops"]
        published = published_base_url(site)
        if args.base_url:
            lines.append(f"links to {published} are served as links to {args.base_url}")
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


if __name__ == "__main__":
    raise SystemExit(main())
