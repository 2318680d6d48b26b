"""``SDK``: the operation-style face of seed 002 (the ``aerostack`` package on PyPI).

``sdk.<group>.<operation>(request={...})`` and ``sdk.<group>.<operation>_async(request={...})``
take the wire field names of the REST API (``jobId``, ``sourceKey``, ``topK``...) and return the
platform's JSON answer as a :class:`~aerostack.Record`. Every operation accepts an optional
positional :class:`~aerostack.utils.RetryConfig` that overrides the SDK's ``retry_config`` for that
call. Calls go through the same engine as ``AerostackClient`` (retries, timeouts, errors).
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Awaitable, Dict, Generic, Mapping, Optional, Protocol, Type, TypeVar, Union, overload

from ._records import Record
from ._transport import (
    AsyncTransport,
    HostedAsyncTransport,
    HostedSyncTransport,
    SyncTransport,
    call_options,
    client_config,
    new_native_client,
)
from .utils import RetryConfig

if TYPE_CHECKING:
    import logging

__all__ = ["SDK"]

Request = Optional[Mapping[str, Any]]
_G = TypeVar("_G")


class SyncOperation(Protocol):
    def __call__(self, request: Request = None, retries: Optional[RetryConfig] = None, *,
                 timeout_ms: Optional[int] = None) -> Any: ...


class AsyncOperation(Protocol):
    def __call__(self, request: Request = None, retries: Optional[RetryConfig] = None, *,
                 timeout_ms: Optional[int] = None) -> Awaitable[Any]: ...


def _extra(retries: Optional[RetryConfig], timeout_ms: Optional[int]) -> Optional[Dict[str, Any]]:
    if retries is None and timeout_ms is None:
        return None
    return call_options(retry=retries, timeout=(timeout_ms / 1000.0) if timeout_ms is not None else None)


def _args(method: str, path: str, request: Request) -> Dict[str, Any]:
    body = dict(request) if request is not None else None
    return {"method": method, "path": path, "body": body if method != "GET" else None}


class _Op(Generic[_G]):
    """A REST operation as a method: ``group.op(request=..., retries)``."""

    def __init__(self, method: str, path: str, doc: str, is_async: bool) -> None:
        self.method, self.path, self.is_async = method, path, is_async
        self.__doc__ = f"{doc} ({method} /v1{path})."

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> "_Op[_G]": ...

    @overload
    def __get__(self, obj: "_Group", owner: type) -> _G: ...

    def __get__(self, obj: Optional["_Group"], owner: type) -> Any:
        if obj is None:
            return self
        method, path = self.method, self.path
        if self.is_async:
            t_async = obj._sdk._async

            async def run_async(request: Request = None, retries: Optional[RetryConfig] = None, *,
                                timeout_ms: Optional[int] = None) -> Any:
                return await t_async.call("request", _args(method, path, request), extra=_extra(retries, timeout_ms))

            run_async.__doc__ = self.__doc__
            return run_async
        t_sync = obj._sdk._sync

        def run(request: Request = None, retries: Optional[RetryConfig] = None, *,
                timeout_ms: Optional[int] = None) -> Any:
            return t_sync.call("request", _args(method, path, request), extra=_extra(retries, timeout_ms))

        run.__doc__ = self.__doc__
        return run


def _ops(method: str, path: str, doc: str) -> "tuple[_Op[SyncOperation], _Op[AsyncOperation]]":
    return _Op(method, path, doc, False), _Op(method, path, doc, True)


class _Group:
    __slots__ = ("_sdk",)

    def __init__(self, sdk: "SDK") -> None:
        self._sdk = sdk


class Ai(_Group):
    """AI chat and search (``AIApi``)."""

    __slots__ = ()
    ai_chat, ai_chat_async = _ops("POST", "/ai/chat", "Generate AI chat completion")
    ingest, ingest_async = _ops("POST", "/ai/search/ingest", "Ingest a document for search")
    query, query_async = _ops("POST", "/ai/search/query", "Semantic search")
    delete, delete_async = _ops("POST", "/ai/search/delete", "Delete a search document")
    delete_by_type, delete_by_type_async = _ops("POST", "/ai/search/deleteByType", "Delete search documents by type")
    list_types, list_types_async = _ops("GET", "/ai/search/listTypes", "List search document types")
    configure, configure_async = _ops("POST", "/ai/search/configure", "Configure the embedding model")
    search_count, search_count_async = _ops("POST", "/ai/search/count", "Count search documents")
    search_get, search_get_async = _ops("POST", "/ai/search/get", "Get a search document")
    search_update, search_update_async = _ops("POST", "/ai/search/update", "Update a search document")


class Authentication(_Group):
    """Sign-up and sign-in (``AuthenticationApi``)."""

    __slots__ = ()
    auth_signin, auth_signin_async = _ops("POST", "/auth/signin", "Sign in user")
    auth_signup, auth_signup_async = _ops("POST", "/auth/signup", "Sign up new user")


class Cache(_Group):
    """Key-value cache (``CacheApi``)."""

    __slots__ = ()
    cache_get, cache_get_async = _ops("POST", "/cache/get", "Get a cached value")
    cache_set, cache_set_async = _ops("POST", "/cache/set", "Set a cached value")
    cache_delete, cache_delete_async = _ops("POST", "/cache/delete", "Delete a cached value")
    cache_get_many, cache_get_many_async = _ops("POST", "/cache/getMany", "Get many cached values")
    cache_set_many, cache_set_many_async = _ops("POST", "/cache/setMany", "Set many cached values")
    cache_delete_many, cache_delete_many_async = _ops("POST", "/cache/deleteMany", "Delete many cached values")
    cache_list, cache_list_async = _ops("POST", "/cache/list", "List cache keys with expirations")
    cache_keys, cache_keys_async = _ops("POST", "/cache/keys", "List cache key names")
    cache_flush, cache_flush_async = _ops("POST", "/cache/flush", "Delete all (or prefixed) keys")
    cache_expire, cache_expire_async = _ops("POST", "/cache/expire", "Set a key's TTL")
    cache_increment, cache_increment_async = _ops("POST", "/cache/increment", "Increment a counter")


class Database(_Group):
    """SQL database (``DatabaseApi``)."""

    __slots__ = ()
    db_query, db_query_async = _ops("POST", "/db/query", "Execute SQL query")
    db_batch, db_batch_async = _ops("POST", "/db/batch", "Execute SQL statements in one transaction")


class Queue(_Group):
    """Background jobs (``QueueApi``)."""

    __slots__ = ()
    queue_enqueue, queue_enqueue_async = _ops("POST", "/queue/enqueue", "Add job to queue")
    queue_get_job, queue_get_job_async = _ops("POST", "/queue/job", "Get a job")
    queue_list_jobs, queue_list_jobs_async = _ops("POST", "/queue/jobs", "List jobs")
    queue_cancel_job, queue_cancel_job_async = _ops("POST", "/queue/cancel", "Cancel a job")


class Services(_Group):
    """Service invocation (``ServicesApi``)."""

    __slots__ = ()
    services_invoke, services_invoke_async = _ops("POST", "/services/invoke", "Invoke another service")


def _upload_parts(request: Mapping[str, Any]) -> "tuple[Dict[str, Any], Optional[bytes]]":
    key = request.get("key")
    if not key:
        raise TypeError('storage_upload needs request["key"], e.g. "avatars/user-123.jpg"')
    args: Dict[str, Any] = {"key": key, "content_type": request.get("content_type") or request.get("contentType")}
    f = request.get("file")
    content: Union[bytes, IO[bytes], str, "os.PathLike[str]", None]
    content = f.get("content") if isinstance(f, Mapping) else f
    if content is None:
        raise TypeError('storage_upload needs request["file"] = {"content": <bytes or binary file>, "file_name": ...}')
    if isinstance(content, (bytes, bytearray, memoryview)):
        return args, bytes(content)
    if isinstance(content, (str, os.PathLike)):
        args["path"] = os.fspath(content)
        return args, None
    data: Any = content.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("storage_upload: the file content must be opened in binary mode ('rb')")
    return args, bytes(data)


class Storage(_Group):
    """File storage (``StorageApi``)."""

    __slots__ = ()
    storage_get_url, storage_get_url_async = _ops("POST", "/storage/getUrl", "Get an object's URL")
    storage_list, storage_list_async = _ops("POST", "/storage/list", "List objects")
    storage_delete, storage_delete_async = _ops("POST", "/storage/delete", "Delete an object")
    storage_exists, storage_exists_async = _ops("POST", "/storage/exists", "Whether an object exists")
    storage_get_metadata, storage_get_metadata_async = _ops("POST", "/storage/getMetadata", "Get an object's metadata")
    storage_copy, storage_copy_async = _ops("POST", "/storage/copy", "Copy an object")
    storage_move, storage_move_async = _ops("POST", "/storage/move", "Move an object")

    def storage_upload(self, request: Mapping[str, Any], retries: Optional[RetryConfig] = None, *,
                       timeout_ms: Optional[int] = None) -> Record:
        """Upload file to storage: ``request={"key", "content_type", "file": {"content", "file_name"}}``
        (``content`` = bytes, a binary file object, or a local path); ``res.url``."""
        args, data = _upload_parts(request)
        result: Record = self._sdk._sync.upload(args, data, extra=_extra(retries, timeout_ms))
        return result

    async def storage_upload_async(self, request: Mapping[str, Any], retries: Optional[RetryConfig] = None, *,
                                   timeout_ms: Optional[int] = None) -> Record:
        """``storage_upload`` as a coroutine."""
        args, data = _upload_parts(request)
        result: Record = await self._sdk._async.upload(args, data, extra=_extra(retries, timeout_ms))
        return result

    def storage_get(self, request: Mapping[str, Any], retries: Optional[RetryConfig] = None, *,
                    timeout_ms: Optional[int] = None) -> bytes:
        """Download an object: ``request={"key": ...}``; its bytes."""
        got: "tuple[bytes, Optional[str]]" = self._sdk._sync.download(
            {"key": request.get("key")}, extra=_extra(retries, timeout_ms))
        return bytes(got[0])

    async def storage_get_async(self, request: Mapping[str, Any], retries: Optional[RetryConfig] = None, *,
                                timeout_ms: Optional[int] = None) -> bytes:
        """``storage_get`` as a coroutine."""
        got: "tuple[bytes, Optional[str]]" = await self._sdk._async.download(
            {"key": request.get("key")}, extra=_extra(retries, timeout_ms))
        return bytes(got[0])


class SDK:
    """Seed 002's client: ``with SDK(api_key_auth=...) as sdk: sdk.database.db_query(request=...)``.

    Args:
        api_key_auth: the project API key (else ``AEROSTACK_API_KEY``).
        server_idx: 0 = https://api.aerostack.dev/v1 (production), 1 = http://localhost:8787/v1.
        server_url: any base URL (overrides ``server_idx``).
        retry_config: the default :class:`~aerostack.utils.RetryConfig` of every operation.
        timeout_ms: per-attempt timeout in milliseconds.
        debug_logger: a ``logging.Logger`` for request logs (default: the ``aerostack`` logger).
        client: your own ``httpx.Client`` (or any object with ``build_request`` and ``send``, the
            ``HttpClient`` protocol) to carry the sync operations' HTTP requests: its headers,
            proxies, event hooks and ``send`` wrappers apply. The engine still builds each request,
            retries, and maps errors. Not closed by the SDK.
        async_client: the same for the ``*_async`` operations (``httpx.AsyncClient`` or an
            ``AsyncHttpClient``).
        project_id: the project id or slug (optional; the key names the project).
    """

    def __init__(
        self,
        api_key_auth: Optional[str] = None,
        server_idx: Optional[int] = None,
        server_url: Optional[str] = None,
        retry_config: Optional[RetryConfig] = None,
        timeout_ms: Optional[int] = None,
        debug_logger: Optional[logging.Logger] = None,
        client: Optional[Any] = None,
        async_client: Optional[Any] = None,
        *,
        project_id: Optional[str] = None,
    ) -> None:
        for name, c in (("client", client), ("async_client", async_client)):
            if c is not None and not (callable(getattr(c, "send", None)) and callable(getattr(c, "build_request", None))):
                raise TypeError(f"SDK({name}=...) needs an HTTP client with build_request() and send(), "
                                f"e.g. httpx.{'Async' if name == 'async_client' else ''}Client(); got {type(c).__name__}")
        config = client_config(
            api_key=api_key_auth,
            project_id=project_id,
            base_url=server_url,
            server_index=server_idx,
            timeout=(timeout_ms / 1000.0) if timeout_ms is not None else None,
            retry=retry_config,
        )
        native = new_native_client(config)
        log = debug_logger  # None: the "aerostack" logger
        self._sync = SyncTransport(native, None, log) if client is None else HostedSyncTransport(native, None, log, http=client)
        self._async = (AsyncTransport(native, None, log) if async_client is None
                       else HostedAsyncTransport(native, None, log, http=async_client))
        self.ai = Ai(self)
        self.authentication = Authentication(self)
        self.cache = Cache(self)
        self.database = Database(self)
        self.queue = Queue(self)
        self.services = Services(self)
        self.storage = Storage(self)

    def close(self) -> None:
        """Nothing to release explicitly; kept for the context-manager protocol."""

    def __enter__(self) -> "SDK":
        return self

    def __exit__(self, et: Optional[Type[BaseException]], e: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    async def __aenter__(self) -> "SDK":
        return self

    async def __aexit__(self, et: Optional[Type[BaseException]], e: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        self.close()


#: Alias used by the older hand-written SDK.
Aerostack = SDK
