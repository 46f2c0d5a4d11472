"""
Whom C{chatclient --tls} trusts when no authority vouches for a server:
what SSH does with host keys, for certificates.

A self-hosted server rarely has a certificate an authority signed, and
"use --insecure" teaches people to turn checking off. So a certificate that
does not verify is judged by its SHA-256 fingerprint (L{chatroom.fingerprint})
against a known-servers file, keyed by host and port:

  - known and the same: connect, silently;
  - known and different: refuse, loudly, and never ask (someone may be in
    the middle; the user removes the old line once the operator confirms);
  - unknown: a person at a terminal is shown the fingerprint and asked
    once; a script is refused, unless C{--fingerprint} names it.

The judgement is one pure function, L{decide}, of the host, the port, the
certificate's fingerprint and whether an authority vouched for it; the
facts come from an OpenSSL connection (L{facts}) after its handshake,
whatever carried it: TLS over TCP (L{chatroom.client.tls}) or DTLS over UDP.
A transport reports the handshake and holds its frames until the client
acted on the decision.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import tempfile
import weakref
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from OpenSSL import SSL
from service_identity import CertificateError, VerificationError
from service_identity.pyopenssl import verify_hostname, verify_ip_address

from chatroom import fingerprint

#: The known-servers file, under the user's configuration directory.
FILE_NAME = "known-servers"

_HEADER = (
    "# Servers whose TLS certificate you trusted, one a line: HOST PORT FINGERPRINT.\n"
    "# Written by chatclient --tls; remove a line to forget a server.\n"
)


def defaultPath(environ: dict[str, str] | None = None) -> Path:
    """
    C{$XDG_CONFIG_HOME/chatroom/known-servers}, C{~/.config} when unset or
    not absolute (as the XDG base directory specification says).
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "chatroom" / FILE_NAME


def normalHost(host: str) -> str:
    """
    The key a host is kept under: names in lower case, IP addresses in
    their one canonical spelling (C{::1} for C{0:0::1}, no brackets).
    """
    bare = host.strip().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return bare.lower().rstrip(".")


class Unreadable(Exception):
    """
    The known-servers file exists but cannot be read (a directory, no
    permission): nothing can be judged known, and nothing is asked.
    """

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(path, why)
        self.path = path
        self.why = why


@dataclass(frozen=True, slots=True)
class Entry:
    """
    What the file says of one server, and where (for "remove line N").
    """

    fingerprint: str
    line: int


class KnownServers:
    """
    The known-servers file: read afresh at each look-up (another chatclient
    may have written it meanwhile), rewritten whole and atomically (a
    temporary file in the same directory, mode 600, then renamed over it),
    so that a crash never leaves half a file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _lines(self) -> list[str]:
        """
        @raise Unreadable: if the file exists but cannot be read.
        """
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise Unreadable(self.path, e.strerror or str(e)) from e

    def lookup(self, host: str, port: int) -> Entry | None:
        """
        The fingerprint known for C{host} and C{port}, if any. Lines that
        cannot be read are skipped (and kept when the file is rewritten).

        @raise Unreadable: if the file cannot be read.
        """
        key = (normalHost(host), port)
        for number, line in enumerate(self._lines(), start=1):
            words = line.split()
            if len(words) != 3 or line.lstrip().startswith("#"):
                continue
            try:
                entry = (normalHost(words[0]), int(words[1]))
                known = fingerprint.parse(words[2])
            except ValueError:
                continue
            if entry == key:
                return Entry(known, number)
        return None

    def remember(self, host: str, port: int, offered: str) -> None:
        """
        Add C{host} and C{port} with the fingerprint C{offered}.

        @raise OSError: if the file cannot be written.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Two clients trusting servers at once: each rewrites the file with
        # the other's line in it, not over it (the directory is the lock).
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(directory, fcntl.LOCK_EX)
            self._rewrite(f"{normalHost(host)} {port} {fingerprint.parse(offered)}")
        finally:
            os.close(directory)  # and the lock with it

    def _rewrite(self, added: str) -> None:
        lines = self._lines() or _HEADER.splitlines()
        lines.append(added)
        fd, temporary = tempfile.mkstemp(prefix=".known-servers.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)  # mkstemp's own mode, said again: never wider
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class Verdict(Enum):
    #: An authority vouched for it, or it is known, or it matches --fingerprint.
    TRUSTED = "trusted"
    #: Unknown, and a person can be asked.
    ASK = "ask"
    #: Unknown, and nobody can be asked (piped).
    UNKNOWN = "unknown"
    #: Known with another fingerprint: refused, never asked.
    CHANGED = "changed"
    #: Not the fingerprint --fingerprint named.
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class Facts:
    """
    What a finished handshake tells of the server's certificate.

    @ivar offered: its fingerprint (L{None}: no certificate at all).
    @ivar signed: an authority we trust signed it.
    @ivar named: it is issued for the host we connected to.
    """

    offered: str | None
    signed: bool
    named: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """
    L{decide}'s answer, with what the client needs to say about it.

    @ivar known: the fingerprint expected (known, or --fingerprint's).
    @ivar entry: the known-servers line, for L{Verdict.CHANGED}.
    @ivar otherName: an authority signed it, but for another name than the
        host's (for L{Verdict.ASK} and L{Verdict.UNKNOWN}).
    """

    verdict: Verdict
    offered: str
    known: str | None = None
    entry: Entry | None = None
    otherName: bool = False


def decide(
    host: str,
    port: int,
    facts: Facts,
    known: KnownServers,
    pinned: str | None = None,
    canAsk: bool = False,
) -> Decision:
    """
    Whether to trust the certificate C{facts} describes for C{host} and C{port}.

    In order: an authority's signature for this name; then C{pinned}
    (C{--fingerprint}, the user's own word for this run); then the
    known-servers file; then the person (C{canAsk}), or refusal.
    """
    offered = facts.offered
    if offered is None:  # no certificate: nothing to judge, nothing to trust
        return Decision(Verdict.UNKNOWN, "")
    if facts.signed and facts.named:
        return Decision(Verdict.TRUSTED, offered)
    if pinned is not None:
        if fingerprint.parse(pinned) == offered:
            return Decision(Verdict.TRUSTED, offered, pinned)
        return Decision(Verdict.MISMATCH, offered, fingerprint.parse(pinned))
    entry = known.lookup(host, port)
    if entry is not None:
        if entry.fingerprint == offered:
            return Decision(Verdict.TRUSTED, offered, entry.fingerprint, entry)
        return Decision(Verdict.CHANGED, offered, entry.fingerprint, entry)
    verdict = Verdict.ASK if canAsk else Verdict.UNKNOWN
    return Decision(verdict, offered, otherName=facts.signed and not facts.named)


class ChainCheck:
    """
    OpenSSL's verdict on each connection's certificate chain, kept instead
    of acted on: the context's verify callback lets every handshake finish
    and notes the connections whose chain failed, so that the client can
    judge the certificate itself (L{facts}) before it sends anything.
    """

    def __init__(self) -> None:
        self._failed: weakref.WeakSet[SSL.Connection] = weakref.WeakSet()

    def install(self, context: SSL.Context) -> None:
        """
        Make C{context} ask for the peer's certificate and report here.
        """
        context.set_verify(SSL.VERIFY_PEER, self._verify)

    def _verify(
        self, connection: SSL.Connection, cert: Any, errno: int, depth: int, ok: int
    ) -> bool:
        if not ok:
            self._failed.add(connection)
        return True  # judged after the handshake, by decide()

    def signed(self, connection: SSL.Connection) -> bool:
        return connection not in self._failed


def facts(connection: SSL.Connection, host: str, chain: ChainCheck) -> Facts:
    """
    The facts of a connection whose handshake is done.
    """
    cert = connection.get_peer_certificate(as_cryptography=True)
    if cert is None:
        return Facts(None, False, False)
    named = True
    try:
        try:
            ipaddress.ip_address(normalHost(host))
        except ValueError:
            verify_hostname(connection, host)
        else:
            verify_ip_address(connection, normalHost(host))
    except (VerificationError, CertificateError):  # another name, or none at all
        named = False
    return Facts(fingerprint.ofCertificate(cert), chain.signed(connection), named)


class Vetting:
    """
    One run's judge of a server's certificate: the host and port it
    connects to, the chain check its TLS or DTLS context reports to, the
    known-servers file and C{--fingerprint}. A transport hands it each
    finished handshake's connection.
    """

    def __init__(
        self,
        host: str,
        port: int,
        chain: ChainCheck,
        known: KnownServers,
        pinned: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.chain = chain
        self.known = known
        self.pinned = pinned

    def judge(self, connection: SSL.Connection, canAsk: bool) -> Decision:
        return decide(
            self.host,
            self.port,
            facts(connection, self.host, self.chain),
            self.known,
            self.pinned,
            canAsk,
        )

    def remember(self, decision: Decision) -> None:
        """
        The person trusted C{decision}'s certificate: keep it for next time.

        @raise OSError: if the file cannot be written.
        """
        self.known.remember(self.host, self.port, decision.offered)
