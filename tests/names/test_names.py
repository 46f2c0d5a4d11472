from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatroom import names


@pytest.mark.parametrize(
    "name", ["alice", "Gökhan", "Şule", "_x", "a.b-c", "7of9", "a" * 32, "नमस्ते", "Ωμέγα"]
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


#: Each of these passed for alice, or rendered blank, before protocol 1.1.
LOOK_ALIKES = [
    "alice\u034f",  # combining grapheme joiner
    "alice\ufe0f",  # variation selector 16
    "alice\ufe00",  # variation selector 1
    "alice\U000e0100",  # variation selector 17
    "alice\u180b",  # Mongolian free variation selector
    "alice\u17b4",  # Khmer vowel inherent aq
    "alice\u3164",  # Hangul filler
    "alice\uffa0",  # half-width Hangul filler
    "alice\u1160",  # Hangul jungseong filler
    "\u0430lice",  # Cyrillic a
    "b\u03bfb",  # Greek omicron
    "\u3164",  # nothing but a Hangul filler: blank
    "\u200balice",  # zero-width space
    "alice\u200d",  # zero-width joiner
    "ali\u202ece",  # right-to-left override
]


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alikes_are_refused(name):
    with pytest.raises(names.BadName):
        names.validate(name)


@pytest.mark.parametrize(
    "name",
    [
        "Алиса",
        "Σωκράτης",
        "नमस्ते",
        "李小龍",
        "Şule",
        "Gökhan",
        "田中タロウ",
        "한국어",
        "İbrahim",
    ],
)
def test_single_script_names_are_welcome(name):
    assert names.validate(name) == name


def test_mixed_scripts_are_refused():
    with pytest.raises(names.BadName, match="one script"):
        names.validate("Ωmega")


def test_han_mixes_with_its_writing_systems():
    """
    UTS #39's highly restrictive level: Han goes with kana or Hangul.
    """
    assert names.validate("東京タワー") == "東京タワー"
    with pytest.raises(names.BadName):
        names.validate("\u0430\u6771")  # Cyrillic with Han


def test_refusals_name_the_character():
    with pytest.raises(names.BadName, match="U\\+FE0F"):
        names.validate("alice\ufe0f")


def test_confusables_share_a_key():
    assert names.key("\u0441\u043e\u0440") == names.key("cop")  # Cyrillic
    assert names.key("Alice") == names.key("alice") == names.key("ALICE")
    assert names.key("paypal") == names.key("\u0440\u0430\u0443\u0440\u0430l")
    assert names.key("rn") == names.key("m")
    assert names.key("alice") != names.key("alicia")


def test_shown_keys_catch_look_alikes_that_case_makes():
    """
    L{names.key} casefolds before the skeleton, so it misses a capital I
    shown beside an l; L{names.shownKey} keeps case and catches it. (Since
    1.2, the key folds vertical strokes, so it catches aIice too.)
    """
    assert names.shownKey("aIice") == names.shownKey("alice")
    assert names.key("B0B") != names.key("BOB")
    assert names.shownKey("B0B") == names.shownKey("BOB")
    assert names.shownKey("\u0441\u043e\u0440") == names.shownKey("cop")


def test_shown_keys_only_add_to_keys():
    """
    Iris and iris are one name by their key, though shown differently;
    Rob and R0B look different in lower case, alike as shown. (Before 1.2,
    iris and lris were the example; now their strokes are one letter.)
    """
    assert names.key("Iris") == names.key("iris")
    assert names.shownKey("Rob") != names.shownKey("rob")
    assert names.shownKey("ROB") == names.shownKey("R0B")
    assert names.key("rob") != names.key("r0b")


def test_keys_are_defined_for_any_text():
    """
    Direct-message targets and names from before 1.1 need keys too.
    """
    assert names.key("alice\u034f")
    assert names.key("a b:c") == names.key("A B:C")
    assert names.shownKey("alice\u034f")
    assert names.shownKey("a b:c") == "a b:c"


def test_caseless_keeps_confusables_apart():
    """
    Accounts are found by their caseless name: a look-alike is not one.
    """
    assert names.caseless("Alice") == names.caseless("alice")
    assert names.caseless("\u0441\u043e\u0440") != names.caseless("cop")


def test_legacy_rules_still_accept_what_1_0_did():
    assert names.validateLegacy("alice\u034f") == "alice\u034f"
    assert names.validateLegacy("\u0430lice") == "\u0430lice"
    with pytest.raises(names.BadName):
        names.validateLegacy("a b")


@given(st.text(min_size=1, max_size=40))
def test_valid_names_keep_the_1_0_rules(text):
    """
    Whatever 1.1 accepts, 1.0 accepted too, spelt the same.
    """
    try:
        spelling = names.validate(text)
    except names.BadName:
        return
    assert names.validateLegacy(text) == spelling
    assert 1 <= len(spelling) <= names.MAX_NAME
    assert spelling[0] not in "-."


@given(st.text(min_size=1, max_size=40))
def test_keys_never_fail(text):
    assert isinstance(names.key(text), str)


@given(st.text(min_size=1, max_size=40))
def test_shown_keys_never_fail(text):
    assert isinstance(names.shownKey(text), str)
