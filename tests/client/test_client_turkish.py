"""
chatclient in Turkish (issue 13): the catalogue is whole and compiled from
its .po, and real clients, piped and on a pseudo-terminal, speak Turkish
when asked (C{--lang tr}, or the environment) while the protocol stays
English.
"""

from __future__ import annotations

import ast
import gettext
import io
import os
import string
import subprocess
from collections import Counter
from pathlib import Path

import pexpect
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from helpers.servers import freeUDPPort, pipedSay
from helpers.terminal import Screen
from helpers.wire import ClientProcess, installed

from chatroom.client import text

CLIENT = Path(text.__file__).resolve().parent
PO = CLIENT / "locale" / "tr" / "LC_MESSAGES" / "chatroom.po"
MO = PO.with_suffix(".mo")


def _msgids() -> set[str | tuple[str, str]]:
    """
    Every sentence written in the client's modules as the argument of
    C{_}, C{N_} or C{ngettext} (as a (singular, plural) pair).
    """
    found: set[str | tuple[str, str]] = set()
    for module in CLIENT.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            literals = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if node.func.id in ("_", "N_") and literals:
                # _(TABLE[key]) translates sentences marked with N_ where they are.
                found.add(literals[0])
            elif node.func.id == "ngettext":
                assert len(literals) == 2, f"{module.name}:{node.lineno}: ngettext of non-literals"
                found.add((literals[0], literals[1]))
    return found


def _fields(sentence: str) -> Counter[str]:
    """
    The C{str.format} fields of a sentence, with their format specs.
    """
    return Counter(
        f"{name}:{spec}"
        for _, name, spec, _ in string.Formatter().parse(sentence)
        if name is not None
    )


def _catalogue() -> dict[object, object]:
    """
    The .po's translations: msgid (or (singular, plural)) -> msgstr (or a tuple).
    """
    with PO.open("rb") as po:
        catalog = read_po(po, locale="tr")
    return {
        message.id if isinstance(message.id, str) else tuple(message.id): message.string
        for message in catalog
        if message.id
    }


def test_every_sentence_has_a_turkish_translation_with_the_same_fields():
    catalogue = _catalogue()
    wanted = _msgids()
    assert len(wanted) > 50  # the parser found the client's sentences
    missing = [msgid for msgid in wanted if msgid not in catalogue]
    assert not missing, f"not in {PO.name}: {missing}"
    for msgid in wanted:
        translations = catalogue[msgid]
        singular = msgid if isinstance(msgid, str) else msgid[0]
        for translation in translations if isinstance(translations, tuple) else [translations]:
            assert translation.strip(), f"empty translation of {msgid!r}"
            assert _fields(translation) == _fields(singular), (msgid, translation)


def test_the_compiled_catalogue_is_the_po_compiled_again():
    """
    The .mo shipped is what the .po says: compiling the .po again (with
    babel) gives the same translations, and Turkish's two plural forms.
    """
    with PO.open("rb") as po:
        catalog = read_po(po, locale="tr")
    fresh = io.BytesIO()
    write_mo(fresh, catalog)
    fresh.seek(0)
    with MO.open("rb") as mo:
        shipped = gettext.GNUTranslations(mo)
    again = gettext.GNUTranslations(fresh)
    # The headers differ (babel writes its own); the translations may not.
    translations = [{k: v for k, v in t._catalog.items() if k != ""} for t in (shipped, again)]
    assert translations[0] == translations[1]
    assert shipped.info()["plural-forms"] == "nplurals=2; plural=(n != 1);"
    assert shipped.ngettext("Sent to {count} user.", "Sent to {count} users.", 3) == (
        "{count} kullanıcıya gönderildi."
    )


def test_languages_and_their_choice():
    assert text.available() == ["en", "tr"]
    assert text.translationFor("tr").gettext("Bye.") == "Hoşça kalın."
    assert text.translationFor("tr_TR.UTF-8").gettext("Password: ") == "Parola: "
    assert text.translationFor("en").gettext("Bye.") == "Bye."
    with pytest.raises(text.UnknownLanguage, match="available: en, tr"):
        text.translationFor("xx")


def _client(port: int, name: str, lines: str, *args: str, **environ: str) -> tuple[int, str]:
    """
    A piped chatclient, with C{environ} instead of the test's language settings.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update({"LANG": "C.UTF-8", **environ})
    result = subprocess.run(
        [installed("chatclient"), "127.0.0.1", str(port), name, *args],
        check=False,
        input=lines,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env=env,
    )
    return result.returncode, result.stdout + result.stderr


TURKISH = [
    "ayşe için bir parola seçin:",
    "Hoş geldiniz, ayşe; TCP üzerinden bağlandınız.",
    "Şu anda çevrimiçi (1): ayşe[TCP] (siz)",
    "İşlem [PM/DM/EX]:",
    "Mesaj:",
    "ayşe[TCP] (siz) : Günaydın · 0 kullanıcıya gönderildi.",
    "Sizden başka çevrimiçi kimse yok.",
    "Hoşça kalın.",
]


@pytest.mark.parametrize(
    "args, environ",
    [
        (["--lang", "tr"], {}),
        ([], {"LANG": "tr_TR.UTF-8"}),
        ([], {"LANGUAGE": "tr", "LANG": "en_US.UTF-8"}),
    ],
    ids=["--lang", "LANG", "LANGUAGE"],
)
def test_a_piped_client_speaks_turkish(server, args, environ):
    status, out = _client(
        server.ports["TCP"], "ayşe", "gizli\nPM\nGünaydın\nDM\nEX\n", *args, **environ
    )
    assert status == 0, out
    for line in TURKISH:
        assert line in out, out
    assert "Operation" not in out and "Password" not in out
    server.waitForLog("ayşe[TCP] : Günaydın")  # what was sent is the user's text, untouched


def test_english_unless_asked(server):
    """
    A language without a catalogue in the environment is English; so is
    C{--lang en} over a Turkish environment. An unknown C{--lang} is a
    bad command line.
    """
    port = server.ports["TCP"]
    status, out = _client(port, "bob", "pw\nEX\n", LANG="de_DE.UTF-8")
    assert status == 0 and "Choose a password for bob:" in out and "Bye." in out, out
    status, out = _client(port, "bob", "pw\nEX\n", "--lang", "en", LANG="tr_TR.UTF-8")
    assert status == 0 and "Password:" in out and "Bye." in out, out
    status, out = _client(port, "bob", "", "--lang", "klingon")
    assert status == 2, out
    assert "--lang: no language 'klingon'; available: en, tr" in out


def test_a_turkish_session_on_a_terminal(server):
    """
    At a terminal in Turkish: a new password typed twice, a message sent
    on one line and received by someone else, text offered as a public
    message and kept back with "h" (hayır), and goodbye.
    """
    tcp = str(server.ports["TCP"])
    bob = ClientProcess("127.0.0.1", tcp, "bob")
    ayse = Screen("127.0.0.1", tcp, "ayşe", "--lang", "tr")
    try:
        bob.type("pw")
        bob.waitFor("Operation [PM/DM/EX]")
        ayse.waitFor("ayşe için bir parola seçin:")
        ayse.type("gizli\r")
        ayse.waitFor("Aynı parolayı yeniden yazın:")
        ayse.type("gizli\r")
        ayse.waitFor("Şu anda çevrimiçi (2): ayşe[TCP] (siz), bob[TCP]")
        ayse.waitFor("Neler yapabileceğinizi görmek için HELP (ya da ?) yazın.")
        ayse.waitForPrompt("İşlem [PM/DM/EX]:")
        ayse.type("PM Işık, İstanbul'dan selamlar\r")
        ayse.waitFor("ayşe[TCP] (siz) : Işık, İstanbul'dan selamlar · 1 kullanıcıya gönderildi.")
        bob.waitFor("ayşe[TCP] : Işık, İstanbul'dan selamlar")
        ayse.waitForPrompt("İşlem [PM/DM/EX]:")
        ayse.type("bunu gönderme\r")
        ayse.waitFor("Bu herkese gönderilsin mi? [E/h]:")
        ayse.type("h\r")
        ayse.waitFor("Gönderilmedi.")
        ayse.waitForPrompt("İşlem [PM/DM/EX]:")
        ayse.type("EX\r")
        ayse.waitFor("Hoşça kalın.")
        ayse.child.expect(pexpect.EOF)
        ayse.child.close()
        assert ayse.child.exitstatus == 0
        bob.waitFor("ayşe [TCP] has left the chat.")  # bob's client is English
        assert "bunu gönderme" not in server.log()
    finally:
        bob.stop()
        ayse.child.close(force=True)


def test_the_command_line_speaks_turkish():
    """
    The language is chosen before the command line is read, so its help
    and its errors are Turkish too (argparse's own headings excepted).
    """
    status, out = _client(0, "ayşe", "", "--help", "--lang", "tr")
    assert status == 0, out
    for line in ["Bir chatroom sunucusunun odasında", "sunucunun adı ya da adresi", "Çıkış durumu"]:
        assert line in out, out
    assert "Exit status" not in out
    status, out = _client(9, "ayşe", "", "--insecure", "--udp", LANG="tr_TR.UTF-8")
    assert status == 2, out
    assert "--cafile ve --insecure yalnızca --tls ile kullanılır" in out, out
    assert "Traceback" not in out


def test_a_udp_port_nobody_listens_on_in_turkish():
    status, out = _client(freeUDPPort(), "ayşe", "", "--udp", "--lang", "tr")
    assert status == 1, out
    assert "yanıt vermiyor (o UDP portunu dinleyen yok)." in out, out


def test_coming_back_in_turkish(restartable):
    """
    Reconnecting (h13-join) speaks Turkish: the countdown, the return, what
    was missed; only the other people's words stay as they were said.
    """
    client = ClientProcess(
        "127.0.0.1", str(restartable.ports["TCP"]), "ayşe", "--reconnect", "--lang", "tr"
    )
    try:
        client.type("gizli")
        client.waitFor("İşlem [PM/DM/EX]:")
        restartable.stop()
        client.waitFor("Sunucu kapanıyor.")
        client.waitFor("1 sn sonra yeniden bağlanılacak (deneme 1/")
        client.waitFor("8 sn sonra yeniden bağlanılacak (deneme 4/")  # time for bob
        restartable.start()
        pipedSay(restartable, "bob", "siz yokken")
        client.waitFor("sn sonra odaya geri döndünüz.")
        client.waitFor("Siz yokken söylenenler:")
        client.waitFor("(önceden) bob[TCP] : siz yokken")
        restartable.server.waitForLog("ayşe [TCP] has connected.")
        client.type("PM", "geri döndüm")
        client.waitFor("0 kullanıcıya gönderildi.")
        client.type("EX")
        assert client.wait() == 0
        assert client.lines[-1] == "Hoşça kalın."
    finally:
        client.stop()
    out = "\n".join(client.lines)
    for english in ["Reconnecting", "Back in the room", "Said while", "Operation", "Sent to"]:
        assert english not in out, out
