"""Network faults on this machine only: a refused port and a host name that cannot resolve.

Neither sends anything anywhere: the refused port is on 127.0.0.1, and the failing DNS lookup is
answered by a stand-in for ``socket.getaddrinfo`` that resolves nothing but 127.0.0.1, so the
real stack (httpx, httpcore, anyio) still raises what it raises when the network is down.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

#: httpx's own transport, taken before conftest's guard wraps it (at test time), for hosts under
#: the reserved ``.invalid`` TLD only: they must get as far as a DNS lookup, which then fails here.
_UNGUARDED_SEND = httpx.AsyncHTTPTransport.handle_async_request


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every name but 127.0.0.1 fails to resolve, and no DNS query leaves the machine."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("127.0.0.1", b"127.0.0.1"):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    guarded = httpx.AsyncHTTPTransport.handle_async_request

    async def send(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".invalid"):
            return await _UNGUARDED_SEND(self, request)
        return await guarded(self, request)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", send)
