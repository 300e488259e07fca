"""Without network, a Hub lookup fails in seconds, not after huggingface_hub's ~23 s of retries, and says
how to work offline; a cached repo is served at once. No real network: a refused port on 127.0.0.1, a
`.invalid` host (RFC 2606: never resolves), and the local fake Hub stopped.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from conftest import load_template_source
from hub_fixtures import run_offline
from hubserver import make_tokenizer_files

import chatfmt
from chatfmt.cli import main
from chatfmt.errors import HubUnreachable
from chatfmt.registry.reach import unreachable_reason

SECONDS = 2.0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lookup_against(endpoint: str, home: os.PathLike[str], repo: str = "org/model") -> dict:
    """`get_template(repo)` and `chatfmt pull repo` in a process whose huggingface_hub talks to `endpoint`
    (it reads HF_ENDPOINT at import): the error, its type and how long the lookup took."""
    script = (
        "import io, json, time, chatfmt\n"
        "from chatfmt.cli import main\n"
        "start = time.monotonic()\n"
        "try:\n"
        f"    chatfmt.get_template({repo!r})\n"
        "    error, kind = None, None\n"
        "except Exception as exc:\n"
        "    error, kind = str(exc), type(exc).__name__\n"
        "seconds = time.monotonic() - start\n"
        "err = io.StringIO()\n"
        f"code = main(['pull', {repo!r}], stdout=io.StringIO(), stderr=err)\n"
        "print(json.dumps({'error': error, 'kind': kind, 'seconds': seconds, 'pull': [code, err.getvalue()]}))\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}  # direct, as here
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(home))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "endpoint",
    [f"http://127.0.0.1:{closed_port()}", "http://chatfmt-no-such-host.invalid"],
    ids=["connection-refused", "unresolvable-host"],
)
def test_an_unreachable_hub_fails_fast_naming_the_repo_and_the_way_offline(endpoint, tmp_path):
    outcome = lookup_against(endpoint, tmp_path)
    assert outcome["kind"] == "HubUnreachable"
    assert outcome["seconds"] < SECONDS, outcome
    message = outcome["error"]
    assert "'org/model'" in message and "HF_HUB_OFFLINE=1" in message and "chatfmt pull org/model" in message
    code, pull_error = outcome["pull"]
    assert code == 2 and "org/model" in pull_error and "cannot be reached" in pull_error
    assert "chatfmt pull" not in pull_error  # it is what failed: no advice to run it again


def test_a_cached_repo_is_served_at_once_when_the_hub_is_down(fake_hub):
    fake_hub.add_repo(
        "org/cached", make_tokenizer_files(load_template_source("Qwen--Qwen2.5-7B-Instruct"), template_file=True)
    )
    chat = [{"role": "user", "content": "hi"}]
    online = chatfmt.load_from_hub("org/cached").render(chat)
    fake_hub.stop()
    start = time.monotonic()
    offline = chatfmt.load_from_hub("org/cached")
    assert time.monotonic() - start < SECONDS
    assert offline.render(chat) == online
    start = time.monotonic()
    with pytest.raises(HubUnreachable, match="'org/elsewhere' cannot be reached.*refused.*HF_HUB_OFFLINE=1") as caught:
        chatfmt.load_from_hub("org/elsewhere")
    assert time.monotonic() - start < SECONDS
    assert caught.value.repo_id == "org/elsewhere" and not caught.value.offline and "refused" in caught.value.reason


def test_pull_in_offline_mode_says_to_unset_it(fake_hub):
    script = (
        "import io, sys\nfrom chatfmt.cli import main\nerr = io.StringIO()\n"
        "code = main(['pull', 'org/x'], stdout=io.StringIO(), stderr=err)\nprint(code, err.getvalue())\n"
    )
    done = run_offline(script)
    assert done.stdout.startswith("2 ") and "HF_HUB_OFFLINE is set" in done.stdout and "chatfmt pull" not in done.stdout
    assert fake_hub.requests == []


def test_a_reachable_endpoint_passes_the_probe(fake_hub):
    assert unreachable_reason(fake_hub.url) is None
    assert "refused" in unreachable_reason(f"http://127.0.0.1:{closed_port()}")


def test_the_probe_is_skipped_behind_a_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert unreachable_reason("https://chatfmt-no-such-host.invalid") is None


def test_the_cli_reports_an_unreachable_hub_on_one_line(fake_hub):
    fake_hub.stop()
    err = io.StringIO()
    assert main(["render", "org/nowhere"], stdin=io.StringIO("[]"), stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and "HF_HUB_OFFLINE=1" in err.getvalue()
