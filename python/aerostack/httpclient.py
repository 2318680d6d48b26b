"""The HTTP client protocols of seed 002: what ``SDK(client=...)`` and ``SDK(async_client=...)`` accept.

``httpx.Client`` and ``httpx.AsyncClient`` satisfy them as they are; a wrapper (the seed's
``CustomClient``) implements ``send`` and ``build_request`` and may change the request on the way,
e.g. add a header. The SDK hands every request the engine builds to ``build_request`` then
``send``; retries, error mapping and decoding stay in the engine. httpx is not a dependency of
this package: import it yourself when you use these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncHttpClient", "HttpClient"]


@runtime_checkable
class HttpClient(Protocol):
    """A synchronous client: ``httpx.Client`` or a wrapper of one."""

    def send(self, request: "httpx.Request", *, stream: bool = False, auth: Any = ...,
             follow_redirects: Any = ...) -> "httpx.Response": ...

    def build_request(self, method: str, url: Any, *, content: Any = None, data: Any = None,
                      files: Any = None, json: Any = None, params: Any = None, headers: Any = None,
                      cookies: Any = None, timeout: Any = ..., extensions: Any = None) -> "httpx.Request": ...


@runtime_checkable
class AsyncHttpClient(Protocol):
    """An asynchronous client: ``httpx.AsyncClient`` or a wrapper of one."""

    async def send(self, request: "httpx.Request", *, stream: bool = False, auth: Any = ...,
                   follow_redirects: Any = ...) -> "httpx.Response": ...

    def build_request(self, method: str, url: Any, *, content: Any = None, data: Any = None,
                      files: Any = None, json: Any = None, params: Any = None, headers: Any = None,
                      cookies: Any = None, timeout: Any = ..., extensions: Any = None) -> "httpx.Request": ...
