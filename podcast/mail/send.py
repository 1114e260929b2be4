"""SMTP: one connection for the run, paced by a token bucket, each accepted copy recorded at once.

What the server says goes into the error messages; the password never does (it is read from
PODCAST_SMTP_PASSWORD by the command and handed to `login` only).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP

from podcast.errors import PodcastError
from podcast.mail.deliveries import Deliveries
from podcast.mail.message import Recipient, Sender
from podcast.settings import MailSettings
from podcast.text import one_line

__all__ = ["MailError", "Sent", "TokenBucket", "connect", "deliver"]

TIMEOUT = 60.0
"""Seconds a server may take to answer one command (a slow relay scans a message before its 250)."""
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class MailError(PodcastError):
    """The SMTP server could not be reached, refused the login, or stopped the run."""


class TokenBucket:
    """At most `per_minute` takes a minute, evenly paced: one token, refilled at per_minute/60 a second."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, burst: float = 1.0) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.tokens = burst
        self.clock, self.sleep = clock, sleep
        self.last = clock()

    def take(self) -> None:
        """Wait until a token is there, and take it."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            wait = (1.0 - self.tokens) / self.rate
            self.sleep(wait)
            self.last = self.clock()
            self.tokens = 1.0
        self.tokens -= 1.0


def _reason(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPResponseException):
        error = e.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return one_line(f"{e.smtp_code} {text}")[:200]
    if isinstance(e, ssl.SSLError):
        return one_line(e.reason or str(e))[:200]
    return one_line(str(e) or type(e).__name__)[:200]


@contextlib.contextmanager
def connect(mail: MailSettings, password: str) -> Iterator[smtplib.SMTP]:
    """An SMTP session with the server of [mail], over TLS as it says, logged in when it names a user."""
    where = f"{mail.host}:{mail.port}"
    context = ssl.create_default_context()  # verifies the certificate (SSL_CERT_FILE adds a CA)
    smtp: smtplib.SMTP | None = None
    try:
        if mail.tls == "ssl":
            smtp = smtplib.SMTP_SSL(mail.host, mail.port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(mail.host, mail.port, timeout=TIMEOUT)
        smtp.ehlo()
        if mail.tls == "starttls":
            if not smtp.has_extn("starttls"):
                raise MailError(f'the SMTP server {where} does not offer STARTTLS; set [mail] tls = "ssl" '
                                'if it expects TLS from the start (port 465), or check smtp')
            smtp.starttls(context=context)
            smtp.ehlo()
        if mail.user:
            smtp.login(mail.user, password)
    except MailError:
        _close(smtp)
        raise
    except smtplib.SMTPAuthenticationError as e:
        _close(smtp)
        raise MailError(f"the SMTP server {where} refused the login of {mail.user!r} ({_reason(e)}); check "
                        "[mail] user and PODCAST_SMTP_PASSWORD") from None
    except smtplib.SMTPNotSupportedError:
        _close(smtp)
        raise MailError(f"the SMTP server {where} offers no login; remove [mail] user, or use "
                        'tls = "starttls" (many servers offer a login only over TLS)') from None
    except ssl.SSLError as e:
        _close(smtp)
        raise MailError(f"the TLS handshake with {where} failed ({_reason(e)}); check [mail] tls "
                        '("ssl" for port 465, "starttls" for 587) and the server\'s certificate') from None
    except (OSError, smtplib.SMTPException) as e:
        _close(smtp)
        raise MailError(f"cannot talk to the SMTP server {where} ({_reason(e)}); check [mail] smtp "
                        "and the network") from None
    try:
        yield smtp
    finally:
        _close(smtp, polite=True)


def _close(smtp: smtplib.SMTP | None, polite: bool = False) -> None:
    if smtp is None:
        return
    try:
        if polite:
            smtp.quit()
        else:
            smtp.close()
    except (OSError, smtplib.SMTPException):
        smtp.close()


@dataclass
class Sent:
    """What a run did: the copies accepted, and the addresses the server refused (with its answer)."""

    accepted: list[Recipient] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def deliver(
    smtp: smtplib.SMTP,
    where: str,
    sender: Sender,
    messages: Iterable[tuple[Recipient, EmailMessage]],
    total: int,
    deliveries: Deliveries,
    bucket: TokenBucket,
    log: Callable[[str], None],
) -> Sent:
    """Send each message, record each the server accepts; MailError with a summary when the server
    stops answering (or answers with a failure that is not about one recipient)."""
    done = Sent()
    for recipient, msg in messages:
        bucket.take()
        try:
            smtp.sendmail(sender.address, [recipient.address], msg.as_bytes(policy=SMTP))
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()), (0, b""))
            answer = _reason(smtplib.SMTPResponseException(code, text))
            done.refused.append(f"{recipient.address}: refused by the server ({answer}); not sent")
            log(done.refused[-1])
            continue
        except (OSError, smtplib.SMTPException) as e:
            left = total - len(done.accepted)
            raise MailError(f"the SMTP server {where} stopped the run ({_reason(e)}): sent "
                            f"{len(done.accepted)}, not sent {left}; run the same command again to "
                            "resume (no one is mailed twice)") from None
        deliveries.record(recipient.address, str(msg["Message-ID"]))
        done.accepted.append(recipient)
        log(f"sent to {recipient.address}")
    return done
