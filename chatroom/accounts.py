"""
Logging in and registering, with twisted.cred, and the services that keep
the accounts' store and password hashing threads running.

The chat service asks two questions of accounts: "is this name
registered?" (to say C{PASSWORD NEW} or C{PASSWORD EXISTING}) and "may
these credentials in?". The second goes through a cred L{Portal}, so a
deployment could put another checker (LDAP, a web site's user table)
behind the same service. Registering is a credential of its own kind,
L{IRegistration}: the checker that accepts it creates the account.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.application.service import Service
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import ICredentials
from twisted.cred.error import LoginFailed, UnauthorizedLogin
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThread, deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool
from zope.interface import Attribute, Interface, implementer

from chatroom import names
from chatroom.passwords import BadPassword, Passwords, prepare
from chatroom.startup import StartupError
from chatroom.store import Store, Unavailable

#: Runs a blocking callable off the reactor thread.
ThreadRunner = Callable[..., Deferred[Any]]


@dataclass(frozen=True)
class _NameAndPassword:
    """
    A name and a password, as text, whose repr never shows the password.
    """

    username: str
    password: str = field(default="", repr=False)


class ITextPassword(ICredentials):
    """
    A name and a password as the user typed them, as text.

    Twisted's L{IUsernamePassword} carries bytes; our names and passwords
    are Unicode text that PRECIS prepares as text, so they travel as such.
    """

    username = Attribute("The name, as typed.")
    password = Attribute("The password, as typed.")


@implementer(ITextPassword)
class TextPassword(_NameAndPassword):
    pass


class IRegistration(ICredentials):
    """
    A request to create an account with its first password.
    """

    username = Attribute("The name to register (its display spelling).")
    password = Attribute("The chosen password.")


@implementer(IRegistration)
class Registration(_NameAndPassword):
    pass


class AlreadyRegistered(LoginFailed):
    """
    Someone registered the name between C{LOGIN} and C{PASS}.
    """


class LookAlike(LoginFailed):
    """
    The name is not registered, but a name that looks like it is: it is
    the same name for uniqueness (protocol 1.1), so nobody may use it.
    """


class IChatter(Interface):
    """
    A logged-in account, as the chat service sees it.
    """

    name = Attribute("The display spelling the account registered with.")


@implementer(IChatter)
@dataclass(frozen=True)
class Chatter:
    name: str


@implementer(IRealm)
class ChatRealm:
    """
    Every authenticated avatar ID (a display name, UTF-8 encoded as cred's
    avatar IDs are bytes) is simply a chatter.
    """

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: type[Interface]
    ) -> tuple[type[Interface], Chatter, Callable[[], None]]:
        if IChatter not in interfaces or not isinstance(avatarId, bytes):
            raise NotImplementedError("chatroom only provides IChatter, for named accounts")
        return IChatter, Chatter(avatarId.decode("utf-8")), lambda: None


@implementer(ICredentialsChecker)
class AccountChecker:
    """
    Checks passwords against the account store, and registers new names.

    Hashing and verifying run through C{runInThread}, never on the reactor.
    """

    credentialInterfaces = (ITextPassword, IRegistration)
    log = Logger()

    def __init__(
        self,
        store: Store,
        passwords: Passwords,
        runInThread: ThreadRunner = deferToThread,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._runInThread = runInThread

    def requestAvatarId(self, credentials: ICredentials) -> Deferred[bytes | tuple[()]]:
        if IRegistration.providedBy(credentials):
            name = self._register(IRegistration(credentials))
        else:
            name = self._verify(ITextPassword(credentials))
        return name.addCallback(lambda spelling: spelling.encode("utf-8"))

    @inlineCallbacks
    def _register(self, credentials: IRegistration):  # -> Deferred[str]
        name = credentials.username
        hashed = yield self._runInThread(self._passwords.hash, prepare(credentials.password))
        created = yield self._store.create(names.caseless(name), name, hashed)
        if not created:
            raise AlreadyRegistered(name)
        return name

    @inlineCallbacks
    def _verify(self, credentials: ITextPassword):  # -> Deferred[str]
        accountKey = names.caseless(credentials.username)
        account = yield self._store.lookup(accountKey)
        if account is None:
            raise UnauthorizedLogin("no such account")
        raw = credentials.password
        try:
            prepared = prepare(raw)
        except BadPassword:
            prepared = None
        stored = account.passwordHash
        ok = prepared is not None and (
            yield self._runInThread(self._passwords.verify, stored, prepared)
        )
        if not ok and prepared != raw:
            # Accounts made before 1.1 hashed the password as typed.
            ok = yield self._runInThread(self._passwords.verify, stored, raw)
            if ok and prepared is not None:
                self._rehash(accountKey, prepared)
                return account.name
        if not ok:
            raise UnauthorizedLogin("wrong password")
        if self._passwords.needsRehash(stored):
            self._rehash(accountKey, raw if prepared is None else prepared)
        return account.name

    def _rehash(self, accountKey: str, password: str) -> None:
        d = self._runInThread(self._passwords.hash, password)
        d.addCallback(lambda hashed: self._store.setPasswordHash(accountKey, hashed))
        d.addErrback(lambda f: self.log.failure("rehashing a password", f))


class AccountStoreService(Service):
    """
    The account store, open while the server runs.

    The server must not start without its accounts: the file is opened
    when this service starts (after every listener bound, before any client
    is served), and a file that cannot be used stops the start with a
    L{StartupError}. It is a C{foundation} of the server: closed only after
    the room has said goodbye to everyone.
    """

    foundation = True

    def __init__(self, store: Store) -> None:
        self.store = store

    def startService(self) -> None:
        try:
            self.store.openNow()
        except Unavailable as e:
            reason = e.__cause__ or e
            raise StartupError(f"cannot use --db {self.store.path}: {reason}") from None
        super().startService()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return self.store.close()


class HashingPool(Service):
    """
    Threads for password hashing: one fewer than the machine has cores.

    Hashing is slow on purpose, and it releases the GIL; with more hashing
    threads than spare cores, a storm of registrations would compete with
    the reactor for the CPU and everyone's messages would wait. With this
    pool a storm slows down the registrations, not the room. It is a
    C{foundation} of the server: stopped after the room.
    """

    foundation = True

    def __init__(self, reactor: IReactorFromThreads, threads: int | None = None) -> None:
        self._reactor = reactor
        self.threads = threads or max(1, (os.cpu_count() or 2) - 1)
        self._pool = ThreadPool(minthreads=0, maxthreads=self.threads, name="chatroom-hashing")

    def startService(self) -> None:
        super().startService()
        self._pool.start()

    def stopService(self) -> None:
        super().stopService()
        self._pool.stop()

    def run(self, f: Callable[..., Any], *args: Any) -> Deferred[Any]:
        """
        C{f(*args)} on one of the hashing threads.
        """
        return deferToThreadPool(self._reactor, self._pool, f, *args)


class Accounts:
    """
    What the chat service needs of accounts, each answer a Deferred.
    """

    def __init__(
        self,
        store: Store,
        passwords: Passwords,
        runInThread: ThreadRunner = deferToThread,
    ) -> None:
        self.store = store
        self._passwords = passwords
        self._runInThread = runInThread
        self.portal = Portal(ChatRealm(), [AccountChecker(store, passwords, runInThread)])

    def isRegistered(self, name: str) -> Deferred[bool]:
        """
        Whether an account exists for C{name} (in any case).

        Fails with L{LookAlike} when none does but one exists for a name
        with the same L{names.key} or L{names.shownKey}, registered under
        another spelling.
        """

        def found(account: object) -> Deferred[bool] | bool:
            if account is not None:
                return True
            d = self.store.lookAlike(names.key(name), names.shownKey(name))
            return d.addCallback(free)

        def free(other: str | None) -> bool:
            if other is not None:
                raise LookAlike(other)
            return False

        return self.store.lookup(names.caseless(name)).addCallback(found)

    def login(self, name: str, password: str) -> Deferred[str]:
        """
        Check a password; fires with the registered spelling of the name,
        or fails with L{UnauthorizedLogin}.
        """
        return self._enter(TextPassword(name, password))

    def register(self, name: str, password: str) -> Deferred[str]:
        """
        Create an account; fires with its name once it is on disk, or fails
        with L{AlreadyRegistered}.
        """
        return self._enter(Registration(name, password))

    def setPassword(self, name: str, password: str) -> Deferred[None]:
        """
        Give the account C{name} a new password (hashed on the hashing threads); fires once
        the hash is stored. The caller checked the password is acceptable.
        """
        d = self._runInThread(self._passwords.hash, prepare(password))
        key = names.caseless(name)
        return d.addCallback(lambda hashed: self.store.setPasswordHash(key, hashed))

    def _enter(self, credentials: ICredentials) -> Deferred[str]:
        def named(result: tuple[type[Interface], object, Callable[[], None]]) -> str:
            return IChatter(result[1]).name

        return self.portal.login(credentials, None, IChatter).addCallback(named)
