"""
The one door every sentence the client shows goes through.

L{_} looks a sentence up in the language chosen at start-up, in the gettext
catalogues shipped in this package (C{locale/<language>/LC_MESSAGES/chatroom.mo},
compiled from the C{.po} beside it); English is the sentences as written.
Sentences are written whole, with C{str.format} fields rather than pieces
glued together, so a translator can reorder them. The protocol's words
(frames, and the operations typed: PM, DM, EX...) are never translated.

The chosen translation is the module's one piece of state, and it is set
once: C{chatclient}'s start-up calls L{install} before any sentence is
made, and nothing changes it afterwards. Every module of the client calls
L{_} wherever it makes a sentence; passing a translator down instead would
thread one more argument through every class for a value that never
changes while the program runs. Until L{install} (and so in tests that
build a machine directly), sentences are English.
"""

from __future__ import annotations

import gettext
from pathlib import Path

#: The gettext domain of the client's sentences.
DOMAIN = "chatroom"

#: Where the catalogues are: C{<language>/LC_MESSAGES/chatroom.mo}.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

#: The language the sentences are written in, which needs no catalogue.
ENGLISH = "en"

_translation: gettext.NullTranslations = gettext.NullTranslations()


class UnknownLanguage(ValueError):
    """
    C{--lang} named a language the client has no catalogue for.
    """


def available() -> list[str]:
    """
    The languages the client speaks: English and every catalogue shipped.
    """
    shipped = {mo.parent.parent.name for mo in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return sorted({ENGLISH, *shipped})


def translationFor(language: str | None) -> gettext.NullTranslations:
    """
    The translation for C{language} (C{tr}, C{tr_TR.UTF-8}...), or, for
    L{None}, the one the environment asks for (C{LANGUAGE}, C{LC_ALL},
    C{LC_MESSAGES}, C{LANG}, as gettext reads them), where a language
    without a catalogue simply means English.

    @raise UnknownLanguage: C{language} is neither English nor shipped.
    """
    if language is None:
        return gettext.translation(DOMAIN, LOCALE_DIR, fallback=True)
    if language.partition("_")[0].partition(".")[0].casefold() in (ENGLISH, "c", "posix"):
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    except OSError:
        raise UnknownLanguage(
            f"no language {language!r}; available: {', '.join(available())}"
        ) from None


def install(translation: gettext.NullTranslations) -> None:
    """
    Speak C{translation} from now on: called once, at start-up.
    """
    global _translation
    _translation = translation


def _(message: str) -> str:
    """
    C{message} in the user's language.
    """
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """
    The sentence for C{count} things, in the user's language (whose plural
    rule the catalogue knows: Turkish, like English, has two forms).
    """
    return _translation.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """
    Mark a sentence kept in a table for translation: L{_} translates it
    where it is shown, and the catalogue's tests find it here.
    """
    return message
