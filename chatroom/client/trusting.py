"""
The person's side of trusting a certificate (L{chatroom.client.trust}
judges): what a certificate nobody vouches for looks like on screen, the
one question about it, and why one is refused, with what to do.

Used for each finished TLS handshake (and DTLS's, the same way): a trusted
certificate lets the connection in at once; any other closes it first, so
that nothing waits on a connection while a person reads.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed

from chatroom.client import trust
from chatroom.client.login import YES_WORDS
from chatroom.client.terminal import UI
from chatroom.client.text import _


class CertificateJudge:
    """
    One handshake's certificate, judged; then, if it was not trusted, settled.
    """

    def __init__(self, vetting: trust.Vetting, ui: UI, canAsk: bool) -> None:
        self.vetting = vetting
        self.ui = ui
        self.canAsk = canAsk
        self._decision: trust.Decision | None = None
        self._problem: str | None = None

    def trusts(self, connection: Any) -> bool:
        """
        Whether the certificate of C{connection} is trusted now, silently.
        """
        try:
            self._decision = self.vetting.judge(connection, self.canAsk)
        except trust.Unreadable as e:
            self._problem = _("Cannot read {file}: {why}; not connected.").format(
                file=e.path, why=e.why
            )
            return False
        return self._decision.verdict is trust.Verdict.TRUSTED

    def settle(self) -> Deferred[bool]:
        """
        A certificate not trusted (after L{trusts}): ask the person about a
        new one, once (No unless the answer is yes), remembering a yes; or
        say why it is refused. Fires with whether to connect again.
        """
        if self._problem is not None:
            self.ui.show(self._problem)
            return succeed(False)
        decision = self._decision
        assert decision is not None and decision.verdict is not trust.Verdict.TRUSTED
        if decision.verdict is not trust.Verdict.ASK:
            for line in trustRefusal(self.vetting, decision):
                self.ui.show(line)
            return succeed(False)
        for line in trustQuestion(self.vetting, decision):
            self.ui.show(line)
        asked = self.ui.ask(_("Trust this certificate and remember it? [y/N]: "))
        return asked.addCallbacks(lambda answer: self._answered(decision, answer), lambda f: False)

    def _answered(self, decision: trust.Decision, answer: object) -> bool:
        if not isinstance(answer, str) or answer.strip().casefold() not in YES_WORDS:
            self.ui.show(_("Not connected: the certificate is not trusted."))
            return False
        path = self.vetting.known.path
        try:
            self.vetting.remember(decision)
        except OSError as e:
            self.ui.show(
                _("Cannot remember it in {file}: {why}.").format(file=path, why=e.strerror or e)
            )
            return False
        self.ui.show(_("Remembered in {file}; connecting...").format(file=path))
        return True


def trustQuestion(vetting: trust.Vetting, decision: trust.Decision) -> list[str]:
    """
    What a person is shown before being asked to trust a certificate.
    """
    where = {"host": vetting.host, "port": vetting.port}
    if decision.otherName:
        why = _(
            "The certificate of {host} port {port} is signed by an authority this computer"
            " trusts, but for another name, and you have not trusted it before."
        )
    else:
        why = _(
            "The certificate of {host} port {port} is not signed by an authority this"
            " computer trusts, and you have not trusted it before."
        )
    return [
        why.format(**where),
        _("Its fingerprint is {fingerprint}").format(fingerprint=decision.offered),
        _(
            "Trust it only if the server's operator gave you the same fingerprint"
            " (chatroom-admin make-cert printed it; the server logs it at start)."
        ),
    ]


def trustRefusal(vetting: trust.Vetting, decision: trust.Decision) -> list[str]:
    """
    Why a certificate is refused, and what the user can do, in a few lines.
    """
    where = {"host": vetting.host, "port": vetting.port}
    verdict = decision.verdict
    if verdict is trust.Verdict.CHANGED:
        assert decision.entry is not None  # a CHANGED decision names the line
        return [
            _(
                "WARNING: THE CERTIFICATE OF {host} PORT {port} HAS CHANGED since you"
                " trusted it. Someone may be listening in, or the server has a new certificate."
            ).format(**where),
            _("Fingerprint you trusted: {fingerprint}").format(fingerprint=decision.known),
            _("Fingerprint offered now: {fingerprint}").format(fingerprint=decision.offered),
            _(
                "Not connected. If the server's operator confirms the new fingerprint,"
                " remove line {line} of {file} (the one for {host} {port}) and connect again."
            ).format(line=decision.entry.line, file=vetting.known.path, **where),
        ]
    if verdict is trust.Verdict.MISMATCH:
        return [
            _(
                "The certificate of {host} port {port} does not have the fingerprint"
                " --fingerprint gave: not connected."
            ).format(**where),
            _("Fingerprint expected: {fingerprint}").format(fingerprint=decision.known),
            _("Fingerprint offered: {fingerprint}").format(fingerprint=decision.offered),
        ]
    if not decision.offered:
        return [_("{host} port {port} offered no certificate: not connected.").format(**where)]
    if decision.otherName:
        why = _(
            "The certificate of {host} port {port} is signed by an authority this computer"
            " trusts, but for another name, and it is not a known one: not connected."
        )
    else:
        why = _(
            "The certificate of {host} port {port} is not signed by an authority this"
            " computer trusts, and it is not a known one: not connected."
        )
    return [
        why.format(**where),
        _("Its fingerprint is {fingerprint}").format(fingerprint=decision.offered),
        _(
            "If the server's operator confirms it, connect once at a terminal and trust it,"
            " or give --fingerprint {fingerprint} (or the authority's certificate with --cafile)."
        ).format(fingerprint=decision.offered),
    ]
