"""`podcast mail` end to end: the real CLI sends the built sample show's newsletter to a real SMTP
server on 127.0.0.1, which keeps every message it accepts."""

from __future__ import annotations

import sqlite3
from collections import Counter
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from conftest import RunCli
from fakes.smtp import SmtpServer, self_signed, server_context
from support.mail import EPISODE, configure, write_list

from podcast.episode import catalog
from podcast.research.ledger import FILE

ADDRESSES = [f"reader{n}@example.org" for n in range(1, 6)]
LIST = "email,name\n" + "".join(f"{a},Reader {n}\n" for n, a in enumerate(ADDRESSES, start=1))


def record(show: Path):
    return catalog.load(show / EPISODE / "build" / "episode.json")


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def mailed(server: SmtpServer) -> Counter[str]:
    return Counter(r for got in server.received for r in got.recipients)


def test_each_subscriber_gets_one_copy_with_both_parts_and_the_unsubscribe_headers(
    show: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    ep = record(show)
    with SmtpServer() as server:
        configure(show, server.port)
        result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, "email,name\nada@example.org,Ada Lovelace\n"
                                                                    "grace@example.org,\n"))
        assert result.returncode == 0, result.stderr
        assert "mailed" in result.stdout and "2 subscriber(s)" in result.stdout
        got = server.received
    assert [g.recipients for g in got] == [["ada@example.org"], ["grace@example.org"]]
    assert {g.sender for g in got} == {"news@papercast.dev"}
    for g in got:
        msg = g.message
        assert msg.get_content_type() == "multipart/alternative"
        assert msg["Subject"] == ep.title
        assert parseaddr(msg["From"]) == ("Papers Weekly", "news@papercast.dev")
        assert msg["Date"] and msg["Message-ID"].endswith("@papercast.dev>")
        text, html = parts(msg)
        for paper in ep.papers:
            assert paper.title in text and paper.url in text
            assert paper.url in html
        assert f"/episodes/{ep.slug}/{ep.audio}" in text and f"/episodes/{ep.slug}/{ep.audio}" in html
        assert "<script" not in html.lower()
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    first = got[0].message
    assert first["To"] == "Ada Lovelace <ada@example.org>"
    assert first["List-Unsubscribe"] == ("<mailto:leave@papercast.dev?subject=unsubscribe>, "
                                         "<https://papercast.dev/leave?email=ada@example.org>")
    assert got[1].message["To"] == "grace@example.org"
    with sqlite3.connect(show / FILE) as db:
        rows = db.execute("SELECT episode, recipient, message_id FROM delivery ORDER BY recipient").fetchall()
    assert rows == [(ep.slug, "ada@example.org", first["Message-ID"].strip()),
                    (ep.slug, "grace@example.org", got[1].message["Message-ID"].strip())]


def test_a_mailto_alone_gets_no_one_click_header(show: Path, run_cli: RunCli,
                                                  tmp_path: Path) -> None:
    with SmtpServer() as server:
        configure(show, server.port, unsubscribe=["mailto:leave@papercast.dev"])
        assert run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, "email\nada@example.org\n")).returncode == 0
        msg = server.received[0].message
    assert msg["List-Unsubscribe"] == "<mailto:leave@papercast.dev>"
    assert msg["List-Unsubscribe-Post"] is None


def test_invalid_lines_are_reported_and_duplicates_mailed_once(
    show: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    listing = write_list(tmp_path, "name,email,plan\nAda,ada@example.org,free\nBob,bob@,free\nAda again,ADA@Example.org,"
                          "paid\n,,\nNo one,,x\nGrace,grace@example.org,free\n")
    with SmtpServer() as server:
        configure(show, server.port)
        result = run_cli(show, "mail", EPISODE, "--to", listing)
        assert result.returncode == 0, result.stderr
    assert mailed(server) == Counter({"ada@example.org": 1, "grace@example.org": 1})
    assert f"{listing} line 3: 'bob@' is not an email address; not sent" in result.stdout
    assert f"{listing} line 6: no address is not an email address; not sent" in result.stdout
    assert "1 repeated address(es) mailed once" in result.stdout


@pytest.mark.parametrize("text", ["email,name\n", "", "name\nAda\n", "email\nnot-an-address\n"])
def test_a_list_with_no_one_to_mail_is_a_one_line_error(
    show: Path, run_cli: RunCli, tmp_path: Path, text: str
) -> None:
    with SmtpServer() as server:
        configure(show, server.port)
        result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, text))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and not server.received


@pytest.mark.parametrize("fail_with", ["", "421 4.3.2 Service shutting down"], ids=["dropped", "421"])
def test_a_run_stopped_midway_resumes_and_mails_no_one_twice(
    show: Path, run_cli: RunCli, tmp_path: Path, fail_with: str
) -> None:
    listing = write_list(tmp_path, LIST)
    with SmtpServer(fail_after=2, fail_with=fail_with) as server:
        configure(show, server.port)
        first = run_cli(show, "mail", EPISODE, "--to", listing)
        assert first.returncode == 1
        assert first.stderr.count("\n") == 1
        assert "sent 2, not sent 3; run the same command again to resume" in first.stderr
        assert mailed(server) == Counter(ADDRESSES[:2])
        server.heal()
        second = run_cli(show, "mail", EPISODE, "--to", listing)
        assert second.returncode == 0, second.stderr
        assert "to 3 subscriber(s)" in second.stdout and "2 sent before" in second.stdout
        third = run_cli(show, "mail", EPISODE, "--to", listing)
        assert third.returncode == 0 and "nothing to send" in third.stdout
    assert mailed(server) == Counter(ADDRESSES)


def test_an_address_the_server_refuses_is_reported_and_the_rest_sent(
    show: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    with SmtpServer(refuse={ADDRESSES[1]}) as server:
        configure(show, server.port)
        result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST))
        assert result.returncode == 0, result.stderr
    assert mailed(server) == Counter(ADDRESSES[:1] + ADDRESSES[2:])
    assert f"{ADDRESSES[1]}: refused by the server (550 5.1.1 No such user here); not sent" in result.stdout
    assert "to 4 subscriber(s)" in result.stdout and "1 refused by the server" in result.stdout


def test_dry_run_lists_and_sends_nothing(show: Path, run_cli: RunCli, tmp_path: Path) -> None:
    with SmtpServer() as server:
        configure(show, server.port)
        result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST), "--dry-run")
        assert result.returncode == 0, result.stderr
        assert not server.received
    title = record(show).title
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"would send to Reader 1 <reader1@example.org>: {title!r} (")
    assert lines[0].endswith(" kB)")
    assert lines[-1].startswith("dry run: would send 5 message(s)") and "nothing was sent" in lines[-1]


def test_eml_writes_one_message_per_subscriber(
    show: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    import email
    import email.policy

    out = tmp_path / "outbox"
    result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST), "--eml", out)
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.eml"))
    assert [f.name for f in files] == [f"{n}-{a}.eml" for n, a in enumerate(ADDRESSES, start=1)]
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["To"] == "Reader 1 <reader1@example.org>" and all(parts(msg))
    if (show / FILE).exists():  # the ledger, if the show has one, records no delivery
        with sqlite3.connect(show / FILE) as db:
            assert db.execute("SELECT count(*) FROM delivery").fetchone() == (0,)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_the_password_from_the_environment(
    show: Path, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-Pa55"
    with SmtpServer(login=("news", secret)) as server:
        configure(show, server.port, user="news")
        monkeypatch.delenv("PODCAST_SMTP_PASSWORD", raising=False)
        missing = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST))
        assert missing.returncode == 1 and "PODCAST_SMTP_PASSWORD is empty" in missing.stderr
        monkeypatch.setenv("PODCAST_SMTP_PASSWORD", "wrong-" + secret)
        refused = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST))
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1
        assert "refused the login of 'news'" in refused.stderr and secret not in refused.stderr + refused.stdout
        assert not server.received
        monkeypatch.setenv("PODCAST_SMTP_PASSWORD", secret)
        ok = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST))
        assert ok.returncode == 0, ok.stderr
        assert secret not in ok.stdout + ok.stderr
    assert mailed(server) == Counter(ADDRESSES)


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
def test_tls_with_a_trusted_certificate(
    show: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with SmtpServer(tls=server_context(cert, key), mode=mode) as server:
        configure(show, server.port, tls=mode)
        result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST))
        assert result.returncode == 0, result.stderr
    assert mailed(server) == Counter(ADDRESSES)


@pytest.mark.parametrize("case", ["ssl to a plain server", "untrusted certificate"])
def test_a_failed_tls_handshake_is_one_line_and_sends_nothing(
    show: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    if case == "ssl to a plain server":
        server, tls = SmtpServer(), "ssl"
    else:
        server, tls = SmtpServer(tls=server_context(cert, key), mode="starttls"), "starttls"
    with server:
        configure(show, server.port, tls=tls)
        result = run_cli(show, "mail", EPISODE, "--to", write_list(tmp_path, LIST))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: the TLS handshake with 127.0.0.1:{server.port} failed (")
    assert not server.received


def test_sending_needs_a_server_an_unsubscribe_target_and_a_real_base_url(
    show: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    listing = write_list(tmp_path, LIST)
    toml = (show / "podcast.toml").read_text("utf-8")
    configure(show, 25, unsubscribe=[])
    result = run_cli(show, "mail", EPISODE, "--to", listing)
    assert result.returncode == 1 and "unsubscribe is empty" in result.stderr
    (show / "podcast.toml").write_text(toml, "utf-8")
    configure(show, 25, smtp="")
    result = run_cli(show, "mail", EPISODE, "--to", listing)
    assert result.returncode == 1 and "smtp is empty" in result.stderr
    (show / "podcast.toml").write_text(toml.replace("https://podcast.papercast.dev/", "https://example.com/pod/"))
    configure(show, 25)
    result = run_cli(show, "mail", EPISODE, "--to", listing)
    assert result.returncode == 1 and "is a placeholder and the mail links to the site" in result.stderr
