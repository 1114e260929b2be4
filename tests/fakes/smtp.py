"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for `podcast mail`.

    with SmtpServer() as server:                     # plain SMTP, no login
        ... server.port, server.received ...
    SmtpServer(fail_after=2)                         # drops the connection at the 3rd message
    SmtpServer(fail_after=2, fail_with="421 4.3.2 Shutting down")   # or answers it with that
    SmtpServer(tls=context, mode="ssl" | "starttls") # TLS from the first byte, or STARTTLS required
    SmtpServer(login=("user", "secret"))             # AUTH PLAIN/LOGIN required
    SmtpServer(refuse={"gone@example.org"})          # 550 for that recipient

`self_signed(folder)` writes a certificate for 127.0.0.1 and its key; a client trusts it when
SSL_CERT_FILE names the certificate.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Handler:
    fail_after: int | None
    fail_with: str
    refuse: frozenset[str] = frozenset()
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_after is not None and len(self.received) >= self.fail_after:
                if self.fail_with:
                    return self.fail_with
                server.transport.abort()  # the connection drops before the server answers
                return "451 never seen"
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK queued"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, *, fail_after: int | None = None, fail_with: str = "", tls: ssl.SSLContext | None = None,
                 mode: str = "", login: tuple[str, str] | None = None, refuse: set[str] = frozenset()
                 ) -> None:
        self.handler = _Handler(fail_after, fail_with, frozenset(refuse))
        self.port = _free_port()
        kwargs: dict[str, Any] = {}
        if mode == "ssl":
            kwargs["ssl_context"] = tls
        elif mode == "starttls":
            kwargs.update(tls_context=tls, require_starttls=True)
        if login:
            kwargs.update(authenticator=_authenticator(login), auth_required=True, auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=30,
                                     **kwargs)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def heal(self) -> None:
        """Accept every message from now on."""
        with self.handler.lock:
            self.handler.fail_after = None

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.controller.stop()


def _authenticator(login: tuple[str, str]) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
        return AuthResult(success=ok, handled=False)

    return check


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, valid from yesterday for a year."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
