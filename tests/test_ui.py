"""The app as people use it: served by `chatrec serve`, driven through gradio_client and a
real headless Chromium (Debian's, installed by `make test`'s set-up; never downloaded)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CHATREC_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    log = (ARTIFACTS / "serve.log") if ARTIFACTS.mkdir(exist_ok=True) is None else None
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatrec.cli", "serve", "--port", str(port)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 180
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"chatrec serve exited: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            raise RuntimeError("chatrec serve did not start within 180 s")
        yield url
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.integration
def test_chat_endpoint_through_gradio_client(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/chat"
    }
    job = client.submit("a TV under $500", "store", api_name="/chat")
    text = job.result(timeout=300)
    assert "Here are 5 picks" in text and " TV" in text and "Mount" not in text
    # It streamed: the picks came first, explanations later (every card ends with one).
    outputs = job.outputs()
    assert len(outputs) > 2 and "Here are 5 picks" in outputs[0]
    assert text.count("  \n_") == 5 and outputs[0].count("  \n_") < 5
    films = client.predict("an animated movie for kids", "movies", api_name="/chat")
    assert "Toy Story (1995)" in films or "Animation" in films


@pytest.mark.integration
def test_typing_in_a_real_browser_shows_catalog_items(server: str) -> None:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    from chatrec.datasets import data_dir, store

    titles = [i.title for i in store.load(data_dir()) if "TVs" in i.categories]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(server, wait_until="domcontentloaded")
        box = page.locator("textarea").first
        box.wait_for(timeout=60_000)
        box.fill("a TV under $500")
        box.press("Enter")
        page.get_by_text("Here are 5 picks").wait_for(timeout=120_000)
        # Picks 4 and 5 get their (template) explanations when the generated ones are done.
        page.get_by_text("as you asked").nth(1).wait_for(timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "chat-store.png"), full_page=True)
        body = page.inner_text("body")
        browser.close()
    shown = [t for t in titles if t in body]
    assert len(shown) >= 5, body[-2000:]
    assert "$" in body and "Mount" not in body
