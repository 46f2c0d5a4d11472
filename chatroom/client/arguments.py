"""
C{chatclient}'s command line: its help (translated, like everything the
client says), the language chosen before the rest is read, and every check
of the arguments, so that a bad command line ends with one sentence and
status 2 before anything is connected.

Apart from L{chatroom.client.process}, which wires a client together and runs
it: reading a command line needs no reactor and no terminal.
"""

from __future__ import annotations

import argparse
import gettext

from chatroom import fingerprint, names
from chatroom.client import tls, trust
from chatroom.client.text import N_, UnknownLanguage, _, available, translationFor

DESCRIPTION = N_("""\
Chat in a chatroom server's room, over TCP (the default) or UDP.

You log in as USERNAME: the first time, you choose its password; after
that, you give it. Then, at "Operation [PM/DM/EX]:",

  PM   sends a public message to everyone online,
  DM   shows who is online and sends a direct message to one of them,
  EX   leaves (so do exit, quit, goodbye, görüşürüz and !q).

Messages from others, and people joining and leaving, are printed as they
arrive, even while you type. Ctrl-C or the end of input leaves politely.

If USERNAME is in use, perhaps by your own other session (a UDP client
that vanished, another terminal), the client offers to end that session:
give your password as usual and you take the name over; the other session
is told so and ends. At "Username:", the answer !ghost does the same.

Without a terminal, each line of standard input answers the next prompt:

  printf 'secret\\nPM\\nhello\\nEX\\n' | chatclient 127.0.0.1 9000 alice

At a terminal, a lost connection (or a server that shuts down) is not the
end: the client reconnects, waiting 1, 2, 4 ... up to 30 seconds between
attempts (about four minutes in all; Ctrl-C leaves), logs in again with the
password you gave (held in memory only) and shows what was said meanwhile.
--no-reconnect turns that off; --reconnect turns it on for piped input.

With --tls, the server's certificate is checked against the system's
trusted authorities, or against those in --cafile FILE. One no authority
signed (chatroom-admin make-cert's) is judged by its fingerprint, as SSH
does: at a terminal you are asked once whether to trust it, and a yes is
remembered in $XDG_CONFIG_HOME/chatroom/known-servers (~/.config by
default); a different certificate there later is refused. Piped, nothing
is asked: the certificate must be known already, or match --fingerprint.
--insecure skips every check (for a test server only).

Exit status: 0 after leaving (or when the server shuts down, or when you
logged in again elsewhere), 1 when the connection is lost or refused (or
cannot be made again), 2 for a bad command line, 3 when the server's TLS
certificate is not trusted.
""")


def chosenLanguage(argv: list[str]) -> gettext.NullTranslations:
    """
    The translation C{--lang} or the environment asks for, found before the
    rest of the command line is read, so that its help and its errors speak
    that language too. A C{--lang} that cannot be used means English here:
    L{parseArguments} then refuses it.
    """
    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang")
    try:
        language = early.parse_known_args(argv)[0].lang
        return translationFor(language)
    except (argparse.ArgumentError, UnknownLanguage):
        return translationFor("en")


def parseArguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chatclient",
        description=_(DESCRIPTION),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("host", help=_("the server's name or address"))
    parser.add_argument("port", type=int, help=_("the server's port (TCP, or UDP with --udp)"))
    parser.add_argument("username", help=_("your name in the room (1-32 letters, digits, _ - .)"))
    parser.add_argument("--udp", action="store_true", help=_("connect over UDP instead of TCP"))
    parser.add_argument(
        "--lang",
        metavar="LANGUAGE",
        help=_(
            "the language of prompts and notices: {languages} (default: from LANGUAGE,"
            " LC_ALL, LC_MESSAGES or LANG; English otherwise)"
        ).format(languages=", ".join(available())),
    )
    parser.add_argument(
        "--tls", action="store_true", help=_("connect over TLS (or DTLS with --udp)")
    )
    parser.add_argument(
        "--cafile", metavar="FILE", help=_("trust the certificates in this PEM file (with --tls)")
    )
    parser.add_argument(
        "--fingerprint",
        metavar="SHA256:...",
        help=_(
            "trust the server's certificate if it has this fingerprint (with --tls;"
            " for scripts, when no authority signed it)"
        ),
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help=_("do not check the server's certificate (with --tls; test servers only)"),
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--reconnect",
        dest="reconnect",
        action="store_true",
        default=None,
        help=_("come back after a lost connection (the default at a terminal)"),
    )
    again.add_argument(
        "--no-reconnect",
        dest="reconnect",
        action="store_false",
        help=_("end when the connection is lost (the default for piped input)"),
    )
    args = parser.parse_args(argv)
    try:
        translationFor(args.lang)  # chosenLanguage took English for one it cannot use
    except UnknownLanguage as e:
        parser.error(f"--lang: {e}")
    if not 0 < args.port < 65536:
        parser.error(_("{port} is not a port number").format(port=args.port))
    if (args.cafile is not None or args.insecure) and not args.tls:
        parser.error(_("--cafile and --insecure go with --tls"))
    if args.cafile is not None and args.insecure:
        parser.error(_("--insecure checks no certificate: leave out --cafile"))
    if args.fingerprint is not None:
        if not args.tls or args.cafile is not None or args.insecure:
            parser.error(_("--fingerprint goes with --tls, without --cafile or --insecure"))
        try:
            args.fingerprint = fingerprint.parse(args.fingerprint)
        except ValueError:
            parser.error(
                _("--fingerprint: {given} is not a SHA-256 fingerprint (SHA256:AB:CD:...)").format(
                    given=args.fingerprint
                )
            )
    args.tlsOptions = None
    args.vetting = None
    if args.tls:
        try:
            if args.udp:
                from chatroom.client.dtls import DTLSOptions

                args.tlsOptions = DTLSOptions(args.host, args.cafile, args.insecure)
            else:
                args.tlsOptions = tls.clientOptions(args.host, args.cafile, args.insecure)
        except tls.BadCAFile as e:
            parser.error(_("--cafile: {why}").format(why=e))
        chain = getattr(args.tlsOptions, "chain", None)  # JudgedLater's, or DTLSOptions'
        if chain is not None:
            args.vetting = trust.Vetting(
                args.host,
                args.port,
                chain,
                trust.KnownServers(trust.defaultPath()),
                args.fingerprint,
            )
    try:
        args.username = names.validate(args.username)
    except names.BadName as e:
        parser.error(_("that username cannot be used: {why}").format(why=e))
    return args
