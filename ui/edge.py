"""The door: what a call from outside may reach, and the checks its arguments pass first.

Two layers, both before any of our code runs:

- ``Gate`` (ASGI middleware over Gradio's app) lets through only the public ``/chat``
  endpoint and the queue the page itself uses. Gradio's ``api_visibility="private"`` hides an
  event from the API page and from ``gradio_client``, but its raw routes
  (``/gradio_api/call/<name>``, ``/gradio_api/run/predict`` with an ``fn_index``) still run it;
  the gate answers those with 404, and the file upload route too (the page has no file
  inputs). A call whose ``data`` has the wrong number of values gets a one-line 422 instead of
  a traceback inside Gradio.
- ``ChatCall`` (pydantic) validates the arguments of ``/chat``: text of bounded length, a known
  catalog, a finite relevance-vs-diversity value in [0, 1], an identity of the shape the last
  reply returned. ``check_chat`` turns a failure into one sentence for the reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

MAX_MESSAGE = 2000  # characters of one message

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC = "chat"  # the one named endpoint
_CALL = re.compile(r"^/gradio_api/call/(v2/)?([^/]+)/?([^/]+)?/?$")  # POST, or GET its result
_RUN = re.compile(r"^/gradio_api/(?:run|api)/([^/]+)/?$")
_JOIN = re.compile(r"^/gradio_api/queue/join/?$")
# The page has no file inputs: nobody needs to upload files to the server.
_UPLOAD = re.compile(r"^/gradio_api/upload(?:_progress)?/?$")
_MAX_BODY = 1 << 20  # 1 MiB: a chat call is a few KB


class Gate:
    """Refuses Gradio's raw routes to private events; checks the size of a call's ``data``.

    ``inputs`` maps each event's ``fn_index`` to its number of inputs, ``public`` the public
    endpoint's ``fn_index`` and ``params`` its parameter names (see ``ui.app``).
    """

    def __init__(
        self,
        app: ASGIApp,
        inputs: dict[int, int] | None = None,
        public: int = -1,
        params: tuple[str, ...] = (),
    ):
        self.app = app
        self.inputs = inputs or {}
        self.public = public
        self.params = params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        call, run, join = _CALL.match(path), _RUN.match(path), _JOIN.match(path)
        name = call.group(2) if call else run.group(1) if run else PUBLIC
        if name != PUBLIC or run or _UPLOAD.match(path):
            await _answer(send, 404, f"Not found: {path} (the only public endpoint is /chat).")
            return
        posted = scope.get("method") == "POST" and ((call and not call.group(3)) or join)
        if not posted:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        if call and call.group(1):
            problem = self._check_named(body)
        else:
            problem = self._check(body, joined=join is not None)
        if problem:
            await _answer(send, 404 if problem.startswith("Not found") else 422, problem)
            return
        await self.app(scope, _replay(body), send)

    def _payload(self, body: bytes | None) -> dict[str, Any] | str:
        if body is None:
            return "The request body is too large."
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return "The request body is not JSON."
        return payload if isinstance(payload, dict) else "The request body must be a JSON object."

    def _check(self, body: bytes | None, joined: bool) -> str:
        """Why a call's body can't be run ('' when it can)."""
        payload = self._payload(body)
        if isinstance(payload, str):
            return payload
        if not isinstance(payload.get("data"), list):
            return 'The request body must be a JSON object with a "data" list.'
        fn = payload.get("fn_index") if joined else self.public
        if not isinstance(fn, int) or fn not in self.inputs:
            return "Not found: no such event."
        if len(payload["data"]) != self.inputs[fn]:
            return f'"data" must hold {self.inputs[fn]} values, not {len(payload["data"])}.'
        return ""

    def _check_named(self, body: bytes | None) -> str:
        """``/call/v2/chat`` takes the parameters by name: all of them, nothing else."""
        payload = self._payload(body)
        if isinstance(payload, str):
            return payload
        given = set(payload) - {"oauth_token"}
        if given != set(self.params):
            return f"/call/v2/chat takes exactly these parameters: {', '.join(self.params)}."
        return ""


async def _read(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"error": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- the arguments of /chat --------------------------------------------------------------
Short = Annotated[str, StringConstraints(max_length=200)]


class Identity(BaseModel):
    """What the last reply returned: who, their proof, their chat and its catalog."""

    model_config = ConfigDict(extra="ignore", strict=True)

    user: Annotated[str, StringConstraints(max_length=60)] = ""
    token: Short = ""
    session: Annotated[str, StringConstraints(pattern=r"^[\w-]{0,64}$")] = ""
    catalog: Short = ""


class ChatCall(BaseModel):
    """The arguments of ``/chat``, as a caller sends them."""

    model_config = ConfigDict(strict=True)

    message: Annotated[str, StringConstraints(max_length=MAX_MESSAGE)]
    catalog: str
    mmr_lambda: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    identity: Identity | None = None


_WHY = {
    "message": f"the message must be text of at most {MAX_MESSAGE:,} characters",
    "mmr_lambda": "mmr_lambda must be a number from 0 (most varied) to 1 (most relevant)",
    "identity": "the identity must be {} or the identity the last reply returned",
}


def check_chat(
    message: Any, catalog: Any, mmr_lambda: Any, identity: Any, catalogs: tuple[str, ...]
) -> ChatCall | str:
    """The validated call, or one sentence saying what is wrong with it.

    An empty catalog means the first of ``catalogs``; the identity's catalog always follows
    the argument (a chat never continues in another catalog: ``ui.handlers`` starts a new one).
    """
    if isinstance(mmr_lambda, int) and not isinstance(mmr_lambda, bool):
        mmr_lambda = float(mmr_lambda)
    try:
        call = ChatCall(
            message=message,
            catalog=catalog if catalog not in ("", None) else catalogs[0],
            mmr_lambda=mmr_lambda,
            identity=identity if identity not in ({}, None) else None,
        )
    except ValidationError as err:
        field = str(err.errors()[0]["loc"][0])
        return f"Sorry, I can't take that request: {_WHY.get(field, field + ' is not valid')}."
    if call.catalog not in catalogs:
        names = ", ".join(catalogs)
        return f"Sorry, I can't take that request: the catalog must be one of {names}."
    return call
