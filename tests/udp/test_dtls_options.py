"""
C{--dtls PORT:privateKey=KEY:certKey=CERT[:interface=ADDR]}: the description read word
by word, escapes as in Twisted's endpoint descriptions, mistakes refused in one
sentence; unusable files stop the start with one line.
"""

from __future__ import annotations

import pytest
from helpers.certs import selfSigned
from twisted.internet import reactor
from twisted.python import usage

from chatroom.dtls.context import DTLSSpec, parseDTLS
from chatroom.options import Options
from chatroom.startup import StartupError
from chatroom.tap import buildService


def test_a_description_is_read_with_its_escapes():
    assert parseDTLS("9444:privateKey=k.pem:certKey=c.pem") == DTLSSpec(9444, "k.pem", "c.pem")
    escaped = r"0:certKey=C\:\\x.pem:privateKey=a\=b:interface=\:\:1"
    assert parseDTLS(escaped) == DTLSSpec(0, "a=b", "C:\\x.pem", "::1")


@pytest.mark.parametrize(
    "description, said",
    [
        ("x:privateKey=k:certKey=c", "is not a port"),
        ("70000:privateKey=k:certKey=c", "is not a port"),
        ("1:privateKey=k", "certKey=FILE is missing"),
        ("1:certKey=c", "privateKey=FILE is missing"),
        ("1:privateKey=k:certKey=c:colour=red", "is not privateKey=FILE"),
        ("1:privateKey=k:privateKey=j:certKey=c", "privateKey is given twice"),
        ("1:privateKey=k:certKey=c:interface=here", "is not an IP address"),
    ],
)
def test_mistakes_are_refused_in_one_sentence(description, said):
    options = Options()
    with pytest.raises(usage.UsageError, match=said) as raised:
        options.parseOptions(["--dtls", description])
    assert str(raised.value).startswith("--dtls: ")


def test_unusable_files_stop_the_start_with_one_line(tmp_path):
    key, cert = selfSigned(tmp_path)
    for description, said in [
        (f"0:privateKey={tmp_path / 'none.pem'}:certKey={cert}", "none.pem"),
        (f"0:privateKey={cert}:certKey={key}", "cannot use the key and certificate"),
    ]:
        options = Options()
        options.parseOptions(
            ["--port", "0", "--db", str(tmp_path / "c.sqlite"), "--dtls", description]
        )
        with pytest.raises(StartupError, match=said) as raised:
            buildService(options, reactor)
        assert str(raised.value).startswith("cannot use --dtls: ")
        assert "\n" not in str(raised.value)
