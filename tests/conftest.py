"""Shared test set-up: nothing a test does may reach a host other than 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(autouse=True)
def _no_external_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any httpx request to a host other than the local test servers."""

    def guard(original):  # type: ignore[no-untyped-def]
        def checked(self, request):  # type: ignore[no-untyped-def]
            if request.url.host not in ("127.0.0.1", "localhost"):
                raise AssertionError(f"test tried to reach the network: {request.url}")
            return original(self, request)

        return checked

    async_original = httpx.AsyncHTTPTransport.handle_async_request

    async def async_checked(self, request):  # type: ignore[no-untyped-def]
        if request.url.host not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"test tried to reach the network: {request.url}")
        return await async_original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", async_checked)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guard(httpx.HTTPTransport.handle_request))
