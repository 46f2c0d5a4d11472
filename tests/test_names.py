from __future__ import annotations

import pytest

from chatroom import names


@pytest.mark.parametrize(
    "name", ["alice", "Gökhan", "Şule", "_x", "a.b-c", "7of9", "a" * 32, "नमस्ते", "Ωmega"]
)
def test_valid(name):
    assert names.validate(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-a", ".a", "a" * 33, "a b", "a:b", "smile😀", "tab\there", "a/b", "a@b", "\u0301a"],
)
def test_invalid(name):
    with pytest.raises(names.BadName):
        names.validate(name)


def test_compatibility_forms_fold_to_plain_ones():
    assert names.validate("ＡＬＩＣＥ") == "ALICE"
    assert names.validate("ﬁsh") == "fish"


def test_keys_are_caseless():
    assert names.key("Alice") == names.key("ALICE") == names.key("alice")
    assert names.key("Straße") == names.key("STRASSE")
    assert names.key("ＡＬＩＣＥ") == names.key("alice")
    assert names.key("alice") != names.key("alicia")
