"""
setup.cfg lists packages by hand, so that twisted.plugins is not left out;
these tests keep that list whole as the package grows.
"""

from configparser import ConfigParser
from fnmatch import fnmatch
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def _listed() -> set[str]:
    config = ConfigParser()
    config.read(TOP / "setup.cfg")
    return set(config["options"]["packages"].split())


def test_every_chatroom_package_is_listed():
    """
    A package missing from the list is missing from a plain (not
    editable) install, where nothing else would notice.
    """
    found = {
        ".".join(init.parent.relative_to(TOP).parts)
        for init in (TOP / "chatroom").rglob("__init__.py")
    }
    assert found <= _listed(), f"not in setup.cfg: {sorted(found - _listed())}"


def test_twisted_plugins_is_listed_but_shadows_nothing():
    """
    twisted/plugins is a namespace in Twisted's own package: an __init__.py
    of ours in twisted/ or twisted/plugins/ would hide Twisted itself.
    """
    assert "twisted.plugins" in _listed()
    assert not (TOP / "twisted" / "__init__.py").exists()
    assert not (TOP / "twisted" / "plugins" / "__init__.py").exists()


def test_translations_are_package_data():
    """
    chatclient's catalogues (.po and the .mo read at run time) are data, not
    modules: only setup.cfg's package_data puts them in an install.
    """
    config = ConfigParser()
    config.read(TOP / "setup.cfg")
    patterns = config["options.package_data"]["chatroom.client"].replace(",", " ").split()
    client = TOP / "chatroom" / "client"
    catalogues = [
        path.relative_to(client).as_posix()
        for path in (client / "locale").rglob("*")
        if path.suffix in (".po", ".mo")
    ]
    assert any(path.endswith("tr/LC_MESSAGES/chatroom.mo") for path in catalogues)
    for path in catalogues:
        assert any(fnmatch(path, pattern) for pattern in patterns), path
