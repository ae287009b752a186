"""Who is chatting and what they said: sessions, profiles, sign-in and saving a turn.

Input: a user name (or none: an anonymous guest) and a session id. Output: the session's
``DialogueState`` and the person's ``Profile``; after a turn, one ``TurnRecord`` written to the
``Store`` in one transaction. States live in memory, least recently used dropped first; with a
store and a user they are saved after every turn and reloaded from there, so a restart (or
another replica) finds them. Another person's session id is never loaded or written.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
import uuid
from collections import OrderedDict
from typing import Any

from chatrec.catalog import Catalog
from chatrec.profile import Profile
from chatrec.store import Store, StoreError
from chatrec.types import DialogueState, Feedback, Reply, Turn, TurnRecord

log = logging.getLogger(__name__)


class Sessions:
    """The dialogue states and profiles of one catalog's conversations."""

    def __init__(self, catalog: Catalog, store: Store | None = None, max_sessions: int = 10_000):
        self.catalog = catalog
        self.store = store
        self.max_sessions = max_sessions
        self.states: OrderedDict[tuple[str, str], DialogueState] = OrderedDict()
        self.profiles: OrderedDict[tuple[str, str], Profile] = OrderedDict()  # anonymous ones

    def __len__(self) -> int:
        return len(self.states)

    def state(self, session_id: str | None, user: str | None = None) -> DialogueState:
        """The dialogue state of a session (new when unknown). With a user and a store, a
        session saved earlier is loaded; a new one starts from the person's profile (their
        disliked items are not shown again). Another person's session id is never loaded."""
        sid = session_id or uuid.uuid4().hex
        key = (user or "", sid)
        if key in self.states:
            self.states.move_to_end(key)
            return self.states[key]
        state: DialogueState | None = None
        if user and self.store is not None:
            saved = self.store.session_state(sid, user)
            if saved is not None:
                state = DialogueState.from_dict(saved)
            else:
                prof = self.profile(user)
                state = DialogueState(sid, liked=list(prof.liked), rejected=list(prof.disliked))
        self.states[key] = state or DialogueState(sid)
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

    def sign_in(self, name: str, token: str | None = None) -> tuple[str, str]:
        """(user, token) for a person who calls themselves ``name``: a new name is theirs
        from now on (a fresh token proves it next time); a name already taken needs its
        token. Raises ValueError with a message the person can read.
        """
        user = " ".join(str(name or "").split())[:40]
        if not user or not re.fullmatch(r"[\w .'-]+", user):
            raise ValueError("Please choose a name of letters, digits, spaces, . ' or -.")
        if self.store is None:
            raise ValueError("Sign-in needs a database; this server runs without one.")
        token = token or secrets.token_urlsafe(24)
        if not self.store.claim(user, token):
            raise ValueError(
                f"The name “{user}” is already taken on this server. Please pick another one."
            )
        return user, token

    def owns(self, user: str, session_id: str) -> bool:
        """Whether ``session_id`` is free or ``user``'s (never someone else's)."""
        if self.store is None or not session_id:
            return True
        return self.store.session_owner(session_id) in (None, user)

    def authenticate(self, user: str, token: str) -> bool:
        """Whether ``token`` proves ``user`` (what every UI call checks)."""
        return self.store is not None and bool(user) and self.store.check_token(user, token)

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
        self, state: DialogueState, user: str | None, turn: Turn, reply: Reply, source: str
    ) -> Reply:
        """Record a completed turn: the session, the feedback it carried and the profile.

        A hostile or off-topic turn is saved as said, but changes no profile or feedback.
        With a user and a store everything is written in one transaction; if that fails the
        person still gets the answer, and the error is logged.
        """
        state.remember(turn.text, reply.text, [r.item_id for r in reply.items])
        reply.done = True
        prof = self.profile(user, state.session_id)
        feedback = self._feedback(turn, source) if turn.intent != "out_of_scope" else []
        if turn.intent == "onboarding":
            prof.stated(turn.text, turn.constraints)
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
                self.store.save_turn(record)
            except (StoreError, sqlite3.Error, OSError) as err:
                log.error("could not save the turn of session %s: %s", state.session_id, err)
        return reply

    def _feedback(self, turn: Turn, source: str) -> list[Feedback]:
        """The judgements a turn carries: 👍/👎 or words, "more like X", onboarding favourites."""
        out: list[Feedback] = []
        if turn.feedback:
            value = 1 if turn.feedback == "positive" else -1
            out = [Feedback(i, value, source) for i in turn.refs if i in self.catalog]
        out += [Feedback(i, 1, "more like") for i in turn.like]
        if turn.intent == "onboarding":
            out += [Feedback(i, 1, "onboarding") for i in turn.refs if i in self.catalog]
        return out
