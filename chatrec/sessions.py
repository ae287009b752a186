"""Who is chatting and what they said: sessions, profiles, sign-in and saving a turn.

Input: a user name (or none: an anonymous guest) and a session id. Output: the session's
``DialogueState`` and the person's ``Profile``; after a turn, one ``TurnRecord`` written to the
``Store`` in one transaction. States live in memory, least recently used dropped first; with a
store and a user they are saved after every turn and read back from the store at the start of
the next one, so a restart or another replica on the same database continues them. Another
person's session id is never loaded or written.

Who a person is: a name with a credential. A named person proves it with a token their browser
keeps (only its hash is stored) or a password; a name made by the command line has no
credential until ``chatrec user set-password`` gives it one, so nobody can take it over from
the web. Names compare case-insensitively; failed sign-ins are rate-limited per name and per
client. A guest is a name and a token signed with the database's secret: no row is written
until the guest's first answered message, and idle guests are pruned (``Store.prune_guests``).
A guest who signs in keeps what they did: their sessions, feedback and profiles become the
person's (``Store.adopt``, one transaction; profiles merged with ``Profile.merged``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Literal

from chatrec.catalog import Catalog
from chatrec.profile import Profile
from chatrec.store import Store, StoreError, StoreWriteError
from chatrec.types import (
    Constraints,
    DialogueState,
    Feedback,
    Judgement,
    Reply,
    Request,
    Turn,
    TurnRecord,
)

log = logging.getLogger(__name__)

GUEST_PREFIX = "guest-"
_NAME = re.compile(r"[\w .'-]+")


class SignInLimiter:
    """At most ``limit`` failed sign-ins per ``window`` seconds for one key (a name, a client)."""

    def __init__(self, limit: int = 5, window: float = 300.0, max_keys: int = 100_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds until ``keys`` may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [0.0]
            for key in keys:
                fails = self._fails.get(key)
                while fails and fails[0] <= now - self.window:
                    fails.popleft()
                if fails and len(fails) >= self.limit:
                    waits.append(fails[0] + self.window - now)
            return max(waits)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._fails.setdefault(key, deque()).append(now)
                self._fails.move_to_end(key)
            while len(self._fails) > self.max_keys:
                self._fails.popitem(last=False)


def clean_name(name: object) -> str:
    """A name as people type it, checked: raises ValueError with a message they can read."""
    user = " ".join(str(name or "").split())[:40]
    if not user or not _NAME.fullmatch(user):
        raise ValueError("Please choose a name of letters, digits, spaces, . ' or -.")
    if user.casefold().startswith(GUEST_PREFIX):
        raise ValueError(f"Names starting with “{GUEST_PREFIX}” are kept for guests.")
    return user


class Sessions:
    """The dialogue states and profiles of one catalog's conversations."""

    def __init__(self, catalog: Catalog, store: Store | None = None, max_sessions: int = 10_000):
        self.catalog = catalog
        self.store = store
        self.max_sessions = max_sessions
        self.states: OrderedDict[tuple[str, str], DialogueState] = OrderedDict()
        self.profiles: OrderedDict[tuple[str, str], Profile] = OrderedDict()  # anonymous ones
        self.limiter = SignInLimiter()
        self._secret_bytes: bytes | None = None

    def __len__(self) -> int:
        return len(self.states)

    def state(self, session_id: str | None, user: str | None = None) -> DialogueState:
        """The dialogue state of a session (new when unknown). With a user and a store, a
        session saved earlier is loaded; a new one starts from the person's profile (their
        disliked items are not shown again). Another person's session id is never loaded."""
        sid = session_id or uuid.uuid4().hex
        key = (user or "", sid)
        state: DialogueState | None = None
        if user and self.store is not None:
            # The store is the truth: another replica may have answered the last turn.
            saved = self.store.session_state(sid, user)
            if saved is not None:
                state = DialogueState.from_dict(saved)
            elif key not in self.states:
                prof = self.profile(user)
                state = DialogueState(sid, liked=list(prof.liked), rejected=list(prof.disliked))
        if state is None and key in self.states:
            self.states.move_to_end(key)
            return self.states[key]
        self.states[key] = state or DialogueState(sid)
        self.states.move_to_end(key)
        while len(self.states) > self.max_sessions:
            self.states.popitem(last=False)
        return self.states[key]

    def profile(self, user: str | None, session_id: str | None = None) -> Profile:
        """A person's profile (stored), or an anonymous session's (in memory)."""
        if user and self.store is not None:
            return Profile.from_dict(self.store.profile(user, self.catalog.name))
        key = ("", session_id or "")
        if key not in self.profiles:
            self.profiles[key] = Profile()
            while len(self.profiles) > self.max_sessions:
                self.profiles.popitem(last=False)
        return self.profiles[key]

    def sign_in(
        self,
        name: str,
        token: str | None = None,
        password: str | None = None,
        client: str = "",
        guest: str | None = None,
    ) -> tuple[str, str]:
        """(user, token) for a person who calls themselves ``name``.

        With a password: the name's password must match (a new token is issued). Without: a
        new name becomes theirs, proved by ``token`` (or a fresh one) from now on; a name that
        is someone's needs that someone's token; a name made by the command line has no
        credential and can't be signed into until it gets a password. Raises ValueError with a
        message the person can read (also when ``client`` or the name failed too often).

        ``guest``: the guest this browser was (the caller has checked their token): once
        signed in, the guest's chats, feedback and profiles are the person's (``adopt``).
        """
        if guest is not None and not guest.startswith(GUEST_PREFIX):
            raise ValueError(f"{guest!r} is not a guest's name.")
        user, token = self._sign_in(name, token, password, client)
        if guest is not None:
            self.adopt(guest, user)
        return user, token

    def _sign_in(
        self, name: str, token: str | None, password: str | None, client: str
    ) -> tuple[str, str]:
        user = clean_name(name)
        if self.store is None:
            raise ValueError("Sign-in needs a database; this server runs without one.")
        keys = (f"name:{user.casefold()}", f"client:{client}")
        wait = self.limiter.wait(*keys)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            raise ValueError(
                f"Too many failed sign-ins; please try again in {minutes} minute"
                f"{'s' if minutes > 1 else ''}."
            )
        user = self.store.find_user(user) or user
        if password:
            new = self.store.login(user, password)
            if new is None:
                self.limiter.failed(*keys)
                raise ValueError("That name and password don't match.")
            return user, new
        token = token if token and not self._guest_token_ok(token) else None
        token = token or secrets.token_urlsafe(24)
        outcome = self.store.claim(user, token)
        if outcome == "ok":
            return user, token
        self.limiter.failed(*keys)
        if outcome == "no-credential":
            raise ValueError(
                f"The name “{user}” exists but has no password yet; its owner can set one "
                f"with `chatrec user set-password`."
            )
        raise ValueError(
            f"The name “{user}” is already taken on this server. Sign in with its password, "
            "or pick another name."
        )

    def adopt(self, guest: str, user: str) -> dict[str, int]:
        """Give ``guest``'s sessions (every catalog), feedback and profiles to ``user`` in one
        transaction, merging profiles where both have one (the guest's is newer), and forget
        both in memory; rows given per table (``Store.adopt``)."""
        if not guest.startswith(GUEST_PREFIX):
            raise ValueError(f"{guest!r} is not a guest's name.")
        if self.store is None:
            return {}

        def merge(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
            return Profile.from_dict(mine).merged(Profile.from_dict(theirs)).to_dict()

        try:
            return self.store.adopt(guest, user, merge)
        finally:
            self.forget(guest)
            self.forget(user)

    def forget(self, user: str) -> None:
        """Drop what memory holds of ``user`` (their dialogue states and profiles): the next
        call reads the store, after another part of the process changed it (a sign-in)."""
        for cache in (self.states, self.profiles):
            for key in [k for k in list(cache) if k[0] == user]:  # a copy: other threads write
                cache.pop(key, None)

    def person(self, name: str) -> str:
        """The stored spelling of ``name`` (names compare case-insensitively), else ``name``."""
        return (self.store.find_user(name) if self.store is not None else None) or name

    def guest(self) -> tuple[str, str]:
        """A new guest's (name, token): nothing is written until their first message."""
        user = f"{GUEST_PREFIX}{uuid.uuid4().hex[:12]}"
        return user, self._guest_token(user)

    def _secret(self) -> bytes:
        if self._secret_bytes is None:
            self._secret_bytes = (
                self.store.secret() if self.store is not None else secrets.token_bytes(32)
            )
        return self._secret_bytes

    def _guest_token(self, user: str) -> str:
        return hmac.new(self._secret(), user.encode(), hashlib.sha256).hexdigest()

    def _guest_token_ok(self, token: str) -> bool:
        """Whether ``token`` looks like a guest's signed token (never reused as a credential)."""
        return bool(re.fullmatch(r"[0-9a-f]{64}", token or ""))

    def owns(self, user: str, session_id: str) -> bool:
        """Whether ``session_id`` is free or ``user``'s in this catalog (never someone else's)."""
        if self.store is None or not session_id:
            return True
        place = self.store.session_place(session_id)
        # Free, or theirs in this catalog: a store chat never continues with movies.
        return place is None or place == (user, self.catalog.name)

    def authenticate(self, user: str, token: str) -> bool:
        """Whether ``token`` proves ``user`` (what every UI call checks)."""
        if not user or not token:
            return False
        if user.startswith(GUEST_PREFIX):
            return hmac.compare_digest(self._guest_token(user), token)
        return self.store is not None and self.store.check_token(user, token)

    def prune_guests(self, idle_days: float) -> dict[str, int]:
        """Remove guests idle for ``idle_days`` with their chats; rows removed per table."""
        if self.store is None:
            return {}
        return self.store.prune_guests(idle_days * 86400.0)

    def saved(self, user: str) -> list[dict[str, Any]]:
        """A person's saved sessions in this catalog, most recent first (for "resume")."""
        if self.store is None:
            return []
        return [
            {"id": x.id, "title": x.title, "updated": x.updated, "turns": x.turns}
            for x in self.store.sessions(user, self.catalog.name)
        ]

    def turns(self, session_id: str, user: str) -> list[dict[str, Any]]:
        """The answered turns of one of ``user``'s sessions ([] when it isn't theirs)."""
        if self.store is None:
            return []
        return self.store.turns(session_id, user)

    def record(
        self,
        state: DialogueState,
        user: str | None,
        turn: Turn,
        reply: Reply,
        source: str,
        before: Constraints | None = None,
    ) -> Reply:
        """Record a completed turn: the session, the feedback it carried and the profile.

        The list a reply shows becomes the session's last list, except a "why" reply's one
        item: the list it explains stays the one "the second one" refers to.

        A hostile or off-topic turn is saved as said, but changes no profile or feedback.
        A request that names a budget ("under $250") makes it the profile's (``before``: the
        constraints in force before the message). With a user and a store everything is
        written in one transaction.

        Raises:
            StoreWriteError: the turn could not be saved (nothing of it was): the caller tells
                the person; the next turn starts from the session as it was saved.
        """
        # A "why X?" explains one item of the list and keeps the list ("why the third?" next
        # still means the list's third); X is the item in focus ("is it any good?").
        why = reply.intent == "why"
        state.remember(turn.text, reply.text, [] if why else [r.item_id for r in reply.items])
        if why and reply.items:
            state.focus = reply.items[0].item_id
        reply.done = True
        prof = self.profile(user, state.session_id)
        feedback = self._feedback(turn, source) if turn.intent != "out_of_scope" else []
        if turn.intent == "onboarding":
            prof.stated(turn.text, turn.constraints)
        elif isinstance(turn, Request) and before is not None:
            prof.heard(turn.text, before, turn.constraints)
        for f in feedback:
            (prof.like if f.value > 0 else prof.dislike)(f.item_id)
        if user and self.store is not None:
            record = TurnRecord(
                user,
                state.session_id,
                self.catalog.name,
                state.to_dict(),
                turn.text,
                reply,
                prof.to_dict(),
                tuple(feedback),
            )
            try:
                self.store.save_turn(record, guest=user.startswith(GUEST_PREFIX))
            except (StoreError, OSError) as err:
                log.error("could not save the turn of session %s: %s", state.session_id, err)
                # The next turn starts from what the store holds, as if this one was not sent.
                self.states.pop((user, state.session_id), None)
                raise StoreWriteError(
                    "I couldn't save this turn, so it is not in your history. Please try again."
                ) from err
        return reply

    def _feedback(self, turn: Turn, source: str) -> list[Feedback]:
        """The judgements a turn carries: 👍/👎 or words, "more like X", onboarding favourites."""
        match turn:
            case Judgement():
                value: Literal[1, -1] = 1 if turn.feedback == "positive" else -1
                return [Feedback(i, value, source) for i in turn.refs if i in self.catalog]
            case Request():
                out = [Feedback(i, 1, "more like") for i in turn.like]
                if turn.intent == "onboarding":
                    out += [Feedback(i, 1, "onboarding") for i in turn.refs if i in self.catalog]
                return out
        return []
