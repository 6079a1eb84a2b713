"""`opsml.ui()`: the web UI served in the background of a Python process (a notebook's), on
the process's own store, behind the token in its address."""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import opsml
import pytest


def _session() -> urllib.request.OpenerDirector:
    """A client that keeps cookies, as a browser does."""
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


@pytest.mark.embedded_only("the UI of a server is the server's own")
def test_ui_serves_the_runs_of_this_process_behind_its_launch_token() -> None:
    with opsml.start_experiment(space="notebook", name="cell") as exp:
        exp.log_parameter("lr", 0.25)
        exp.log_metric("loss", 0.5, step=0)
    server = opsml.ui()
    try:
        base = server.url.split("/?token=")[0]
        assert server.url.startswith("http://127.0.0.1:")
        assert "token=opsml_" in server.url
        assert server.url in server._repr_html_()
        # Without the token: refused, naming what to open.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/v1/runs")
        assert refused.value.code == 401
        assert json.load(refused.value)["error"]["code"] == "launch_token_required"
        refused.value.close()
        # With it: the cookie is set and the table holds this process's run.
        client = _session()
        with client.open(server.url) as page:
            assert page.status == 200
            assert b"<html" in page.read().lower()
        with client.open(f"{base}/api/v1/runs") as answer:
            table = json.load(answer)
        assert [run["uid"] for run in table["runs"]] == [exp.uid]
        assert table["parameters"] == {"lr": [0.25]}
        assert table["metrics"]["loss"]["last"] == [0.5]
    finally:
        server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base}/healthz", timeout=5)


@pytest.mark.embedded_only("the UI of a server is the server's own")
def test_two_launches_have_different_tokens_and_neither_opens_the_other() -> None:
    first, second = opsml.ui(), opsml.ui()
    try:
        assert first.url != second.url
        other_token = second.url.split("token=")[1]
        wrong = first.url.split("?")[0] + f"?token={other_token}"
        with pytest.raises(urllib.error.HTTPError) as refused:
            _session().open(wrong)
        assert refused.value.code == 401
        refused.value.close()
    finally:
        first.stop()
        second.stop()


def test_ui_of_a_server_uri_says_where_its_ui_is() -> None:
    with pytest.raises(opsml.ConfigurationError, match="is a server"):
        opsml.ui(tracking_uri="http://127.0.0.1:9")


def test_ui_names_a_host_that_is_not_an_address() -> None:
    with pytest.raises(opsml.ConfigurationError, match='host "localhost:80" is not an IP'):
        opsml.ui(host="localhost:80")


@pytest.mark.embedded_only("the UI of a server is the server's own")
def test_opsml_ui_opens_a_browser_only_when_asked(tmp_path: Path) -> None:
    # A "browser" that writes down what it was given and the page there.
    opened = tmp_path / "opened.txt"
    given = tmp_path / "given.txt"
    mode = tmp_path / "mode.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(
        f'#!/bin/sh\nprintf "%s" "$1" > {given}\nstat -c %a "${{1#file://}}" > {mode}\n'
        f'cat "${{1#file://}}" > {opened}.part\nmv {opened}.part {opened}\n'
    )
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser)}

    def serve(*flags: str) -> str:
        with subprocess.Popen(
            [str(Path(sys.executable).parent / "opsml"), "ui", "--port", "0", *flags],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        ) as ui:
            return address_of(ui, opening="--open" in flags)

    def address_of(ui: subprocess.Popen[str], opening: bool) -> str:
        try:
            assert ui.stdout is not None
            address = next(line for line in ui.stdout if line.startswith("open "))
            deadline = time.monotonic() + 10
            while opening and time.monotonic() < deadline:
                if opened.exists() and opened.stat().st_size > 0:
                    break
                time.sleep(0.05)
            return address.split(" ", 1)[1].strip()
        finally:
            ui.terminate()
            ui.wait(timeout=30)

    serve()
    assert not opened.exists(), "nothing opens unless asked"
    address = serve("--open")
    assert "/?token=opsml_" in address
    # The browser's command line holds a file only this user reads, not the token, which
    # other users could see there; the file sends the browser on to the address.
    argument = given.read_text()
    assert argument.startswith("file://")
    assert "token" not in argument
    assert mode.read_text().strip() == "600"
    assert f'content="0;url={address}"' in opened.read_text()
