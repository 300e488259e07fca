"""Whether the Hub endpoint can be reached at all, decided within about a second.

huggingface_hub retries a request that cannot connect five times with backoff (about 23 s) before it
looks in the cache. A server without network should know at once, so before fetching, chatfmt resolves
the endpoint's host and opens one TCP connection to it, both within `PROBE_SECONDS`. A name that does
not resolve, or a connection that is refused or times out, means unreachable: the fetch then reads the
cache only. When a proxy is configured for the endpoint, a direct connection proves nothing, and no
probe is made.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
import urllib.request

PROBE_SECONDS = 1.5

__all__ = ["PROBE_SECONDS", "unreachable_reason"]


def unreachable_reason(endpoint: str, timeout: float = PROBE_SECONDS) -> str | None:
    """Why `endpoint` (a URL) cannot be reached, in words for an error message; None when it answers
    (or when a proxy stands between, which only the request itself can test)."""
    url = urllib.parse.urlsplit(endpoint)
    host = url.hostname
    if not host or _behind_proxy(url.scheme, host):
        return None
    port = url.port or (443 if url.scheme == "https" else 80)
    deadline = time.monotonic() + timeout
    addresses = _resolve(host, port, timeout)
    if isinstance(addresses, str):
        return addresses
    failure = f"no address of {host} answered"
    for family, kind, protocol, _, address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return f"{host}:{port} did not answer within {timeout:g} s"
        try:
            with socket.socket(family, kind, protocol) as connection:
                connection.settimeout(remaining)
                connection.connect(address)
            return None
        except ConnectionRefusedError:
            failure = f"the connection to {host}:{port} was refused"
        except TimeoutError:
            failure = f"{host}:{port} did not answer within {timeout:g} s"
        except OSError as exc:
            failure = f"{host}:{port} cannot be reached ({exc.strerror or exc})"
    return failure


def _resolve(host: str, port: int, timeout: float) -> list | str:
    """The host's addresses, or why it has none. getaddrinfo takes no timeout, so it runs in a daemon
    thread that is abandoned when the resolver does not answer in time."""
    outcome: list = []

    def resolve() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=resolve, name="chatfmt-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return f"the name {host} did not resolve within {timeout:g} s"
    if isinstance(outcome[0], OSError):
        return f"the name {host} does not resolve ({outcome[0].strerror or outcome[0]})"
    return outcome[0]


def _behind_proxy(scheme: str, host: str) -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get(scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(host)
