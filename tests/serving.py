"""`chatrec serve` in a subprocess for the tests that talk to it over HTTP, and the raw calls
they make: the public ``/chat`` (``/gradio_api/call/chat``) and the page's own queue."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from .conftest import REPO

ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`chatrec serve` in a subprocess, on a database of its own (a path or a URL); restartable."""

    def __init__(self, db: Path | str, name: str, llm: bool = True):
        self.db, self.name, self.llm = db, name, llm
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra: list[str] = []
        self.log = ARTIFACTS / f"serve-{name}.log"

    @property
    def db_url(self) -> str:
        return self.db if isinstance(self.db, str) else f"sqlite:///{self.db}"

    def start(self) -> Server:
        ARTIFACTS.mkdir(exist_ok=True)
        args = ["serve", "--port", str(self.port), "--db", self.db_url, *self.extra]
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chatrec.cli", *args, *([] if self.llm else ["--no-llm"])],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + 240
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chatrec serve exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.5)
        self.proc.kill()
        raise RuntimeError("chatrec serve did not start within 240 s")

    def kill(self) -> None:
        """Like a crash: no clean shutdown."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def tracebacks(self) -> int:
        """How many tracebacks the server has logged."""
        return self.log.read_text(errors="replace").count("Traceback")


def _events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a server-sent-events response."""
    out, event = [], ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            raw = line.split(":", 1)[1].strip()
            try:
                out.append((event, json.loads(raw)))
            except ValueError:
                out.append((event, raw))
    return out


def call_chat(base: str, data: Any, raw: str | None = None) -> tuple[int, Any]:
    """POST ``/gradio_api/call/chat`` (the documented raw route) and read its stream to the end.

    ``raw``: a body sent as written (e.g. with a bare ``NaN``). Returns (HTTP status, the last
    data: the reply's [markdown, identity], or the refusal's JSON).
    """
    with httpx.Client(base_url=base, timeout=120) as http:
        body = raw if raw is not None else json.dumps({"data": data})
        r = http.post(
            "/gradio_api/call/chat", content=body, headers={"content-type": "application/json"}
        )
        if r.status_code != 200:
            return r.status_code, r.json()
        event_id = r.json()["event_id"]
        with http.stream("GET", f"/gradio_api/call/chat/{event_id}") as stream:
            events = _events(stream)
        return 200, events[-1][1] if events else None


def page_ids(base: str) -> dict[str, int]:
    """Each of the page's events by its (private) name: the event numbers the page sends."""
    config = httpx.get(base + "config", timeout=30).json()
    return {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}


def page_event(base: str, fn_index: int, data: list[Any]) -> list[Any]:
    """Run one of the page's events as the page does (queue/join, then queue/data); its outputs."""
    session = uuid.uuid4().hex[:11]
    with httpx.Client(base_url=base, timeout=120) as http:
        body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None}
        r = http.post("/gradio_api/queue/join", json=body)
        r.raise_for_status()
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as s:
            for _, msg in _events(s):
                if isinstance(msg, dict) and msg.get("msg") == "process_completed":
                    return msg["output"]["data"]
    raise AssertionError("the page event never completed")


def text_of(content: object) -> str:
    """A chat message's text (Gradio 6 sends a list of typed parts)."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)
