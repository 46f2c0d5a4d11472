"""
C{--config FILE}: the server's options from a TOML file.

Each key is a long option's name without its dashes (C{port = 9000},
C{no-udp = true}, C{web-origin = ["https://a", "https://b"]}). The file's
settings become words put I{before} the command line's, so that the command
line, parsed after them, wins; a list given on the command line
(C{--web-origin}) replaces the file's instead of adding to it.

Every key and value is checked here, before any option is parsed, so that
a mistake in the file is told as the file's: L{ConfigError} names the file
and the key, in one line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from typing import Any

#: Options given as lists: repeated on the command line, a TOML array in a file.
LISTS = frozenset({"web-origin"})

#: Options whose value is one word of a few (a TOML string), checked by the
#: option's own check; every other checked option takes a number.
CHOICES = frozenset({"plaintext-logins"})


class ConfigError(Exception):
    """
    The configuration file cannot be used; the message names the file and
    the key, in one line.
    """


def findConfig(args: Sequence[str]) -> str | None:
    """
    The file named by C{--config FILE} or C{--config=FILE} in C{args}, if any.
    """
    for i, word in enumerate(args):
        if word == "--":
            break
        if word == "--config" and i + 1 < len(args):
            return args[i + 1]
        if word.startswith("--config="):
            return word.partition("=")[2]
    return None


def load(path: str) -> dict[str, Any]:
    """
    The table of C{path}'s settings.

    @raise ConfigError: if it cannot be read or does not parse.
    """
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not TOML: {e}") from None


def settingsWords(
    path: str,
    settings: dict[str, Any],
    parameters: dict[str, Callable[[str], Any] | None],
    flags: frozenset[str],
) -> list[str]:
    """
    Command-line words saying what C{settings} (read from C{path}) say.

    @param parameters: the options that take a value, each with its check
        (which raises L{ValueError}) or L{None} for a string taken as is.
    @param flags: the options that take none.
    @raise ConfigError: for an unknown key, or a value of the wrong type or
        out of its range.
    """
    words = []
    for key, value in settings.items():
        where = f"{path}: key {key!r}"
        if key in flags:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: must be true or false, not {_shown(value)}")
            if value:
                words.append(f"--{key}")
        elif key in LISTS:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ConfigError(f"{where}: must be a list of strings, not {_shown(value)}")
            for item in value:
                words += [f"--{key}", item]
        elif key in parameters:
            check = parameters[key]
            text = check is None or key in CHOICES  # else a number
            if text and not isinstance(value, str):
                raise ConfigError(f"{where}: must be a string, not {_shown(value)}")
            if not text and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ConfigError(f"{where}: must be a number, not {_shown(value)}")
            if check is not None:
                try:
                    check(str(value))
                except ValueError as e:
                    raise ConfigError(f"{where}: {e}") from None
            words += [f"--{key}", str(value)]
        else:
            raise ConfigError(f"{where}: no such option (see --help)")
    return words


def withConfig(
    args: Sequence[str],
    parameters: dict[str, Callable[[str], Any] | None],
    flags: frozenset[str],
) -> list[str]:
    """
    C{args}, preceded by the words of the file C{--config} names in them
    (if any), the command line's lists replacing the file's.

    @raise ConfigError: if that file cannot be used.
    """
    path = findConfig(args)
    if path is None:
        return list(args)
    settings = load(path)
    given = {word[2:].partition("=")[0] for word in args if word.startswith("--")}
    kept = {key: value for key, value in settings.items() if not (key in LISTS and key in given)}
    return [*settingsWords(path, kept, parameters, flags), *args]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"
