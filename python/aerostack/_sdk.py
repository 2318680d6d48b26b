"""``SDK``: the operation-style face of seed 002 (the ``aerostack`` package on PyPI).

``sdk.<group>.<operation>(request={...})`` and ``sdk.<group>.<operation>_async(request={...})``
take the wire field names of the REST API (``jobId``, ``sourceKey``, ``topK``...) and return the
platform's JSON answer as a :class:`~aerostack.Record`. Every operation accepts an optional
positional :class:`~aerostack.utils.RetryConfig` that overrides the SDK's ``retry_config`` for that
call. Calls go through the same engine as ``AerostackClient`` (retries, timeouts, errors).

Path and query parameters are keyword arguments (``sdk.gateway.gateway_chat_completions(
request={...}, api_slug="my-bot")``); the gateway's consumer operations take ``consumer_key=``
(else the SDK's ``consumer_key``, else ``AEROSTACK_CONSUMER_KEY``).
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
                 timeout_ms: Optional[int] = None, **params: Any) -> Any: ...

class AsyncOperation(Protocol):
    def __call__(self, request: Request = None, retries: Optional[RetryConfig] = None, *,
                 timeout_ms: Optional[int] = None, **params: Any) -> Awaitable[Any]: ...


def _extra(retries: Optional[RetryConfig], timeout_ms: Optional[int]) -> Optional[Dict[str, Any]]:
    if retries is None and timeout_ms is None:
        return None
    return call_options(retry=retries, timeout=(timeout_ms / 1000.0) if timeout_ms is not None else None)


def _args(operation: str, request: Request, params: Dict[str, Any]) -> Dict[str, Any]:
    args: Dict[str, Any] = {"operation": operation, "request": dict(request) if request is not None else None}
    consumer_key = params.pop("consumer_key", None)
    if consumer_key is not None:
        args["consumer_key"] = consumer_key
    if params:
        args["params"] = params
    return args


class _Op(Generic[_G]):
    """A REST operation as a method: ``group.op(request=..., retries)``. Its method and path are
    the engine's (``rest_operations()``, bindings/common/src/rest.rs): the ``rest`` operation."""

    def __init__(self, doc: str, is_async: bool) -> None:
        self.is_async = is_async
        self.__doc__ = f"{doc}."
        self.operation = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.operation = f"{getattr(owner, '_group')}.{name[:-len('_async')] if self.is_async else name}"

    @overload
    def __get__(self, obj: None, owner: type) -> "_Op[_G]": ...

    @overload
    def __get__(self, obj: "_Group", owner: type) -> _G: ...

    def __get__(self, obj: Optional["_Group"], owner: type) -> Any:
        if obj is None:
            return self
        operation = self.operation
        if self.is_async:
            t_async = obj._sdk._async

            async def run_async(request: Request = None, retries: Optional[RetryConfig] = None, *,
                                timeout_ms: Optional[int] = None, **params: Any) -> Any:
                return await t_async.call("rest", _args(operation, request, params), extra=_extra(retries, timeout_ms))

            run_async.__doc__ = self.__doc__
            return run_async
        t_sync = obj._sdk._sync

        def run(request: Request = None, retries: Optional[RetryConfig] = None, *,
                timeout_ms: Optional[int] = None, **params: Any) -> Any:
            return t_sync.call("rest", _args(operation, request, params), extra=_extra(retries, timeout_ms))

        run.__doc__ = self.__doc__
        return run


def _ops(doc: str) -> "tuple[_Op[SyncOperation], _Op[AsyncOperation]]":
    return _Op(doc, False), _Op(doc, True)


class _Group:
    __slots__ = ("_sdk",)
    _group = ""  # the generated SDK's group name, set by each subclass

    def __init__(self, sdk: "SDK") -> None:
        self._sdk = sdk


class Ai(_Group):
    """AI chat and search (``AIApi``)."""

    __slots__ = ()
    _group = "ai"
    ai_chat, ai_chat_async = _ops("Generate AI chat completion")
    ingest, ingest_async = _ops("Ingest a document for search")
    query, query_async = _ops("Semantic search")
    delete, delete_async = _ops("Delete a search document")
    delete_by_type, delete_by_type_async = _ops("Delete search documents by type")
    list_types, list_types_async = _ops("List search document types")
    configure, configure_async = _ops("Configure the embedding model")
    search_count, search_count_async = _ops("Count search documents")
    search_get, search_get_async = _ops("Get a search document")
    search_update, search_update_async = _ops("Update a search document")


class Authentication(_Group):
    """Sign-up and sign-in (``AuthenticationApi``)."""

    __slots__ = ()
    _group = "authentication"
    auth_signin, auth_signin_async = _ops("Sign in user")
    auth_signup, auth_signup_async = _ops("Sign up new user")


class Cache(_Group):
    """Key-value cache (``CacheApi``)."""

    __slots__ = ()
    _group = "cache"
    cache_get, cache_get_async = _ops("Get a cached value")
    cache_set, cache_set_async = _ops("Set a cached value")
    cache_delete, cache_delete_async = _ops("Delete a cached value")
    cache_get_many, cache_get_many_async = _ops("Get many cached values")
    cache_set_many, cache_set_many_async = _ops("Set many cached values")
    cache_delete_many, cache_delete_many_async = _ops("Delete many cached values")
    cache_list, cache_list_async = _ops("List cache keys with expirations")
    cache_keys, cache_keys_async = _ops("List cache key names")
    cache_flush, cache_flush_async = _ops("Delete all (or prefixed) keys")
    cache_expire, cache_expire_async = _ops("Set a key's TTL")
    cache_increment, cache_increment_async = _ops("Increment a counter")


class Database(_Group):
    """SQL database (``DatabaseApi``)."""

    __slots__ = ()
    _group = "database"
    db_query, db_query_async = _ops("Execute SQL query")
    db_batch, db_batch_async = _ops("Execute SQL statements in one transaction")


class Gateway(_Group):
    """The AI gateway (``GatewayApi``): ``gateway_chat_completions(request, api_slug=...)`` and
    ``gateway_get_wallet(api_slug=...)`` as a consumer (``consumer_key=`` or the SDK's), and
    ``gateway_billing_log`` with the project key."""

    __slots__ = ()
    _group = "gateway"
    gateway_billing_log, gateway_billing_log_async = _ops("Log metered units against a consumer's wallet")
    gateway_chat_completions, gateway_chat_completions_async = _ops("Chat through a gateway API, billed to the consumer")
    gateway_get_wallet, gateway_get_wallet_async = _ops("The consumer's wallet")


class Queue(_Group):
    """Background jobs (``QueueApi``)."""

    __slots__ = ()
    _group = "queue"
    queue_enqueue, queue_enqueue_async = _ops("Add job to queue")
    queue_get_job, queue_get_job_async = _ops("Get a job")
    queue_list_jobs, queue_list_jobs_async = _ops("List jobs")
    queue_cancel_job, queue_cancel_job_async = _ops("Cancel a job")


class Services(_Group):
    """Service invocation (``ServicesApi``)."""

    __slots__ = ()
    _group = "services"
    services_invoke, services_invoke_async = _ops("Invoke another service")


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
    _group = "storage"
    storage_get_url, storage_get_url_async = _ops("Get an object's URL")
    storage_list, storage_list_async = _ops("List objects")
    storage_delete, storage_delete_async = _ops("Delete an object")
    storage_exists, storage_exists_async = _ops("Whether an object exists")
    storage_get_metadata, storage_get_metadata_async = _ops("Get an object's metadata")
    storage_copy, storage_copy_async = _ops("Copy an object")
    storage_move, storage_move_async = _ops("Move an object")

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
        consumer_key: the AI-gateway consumer key (``ask_…``) of the ``gateway`` consumer
            operations (else ``AEROSTACK_CONSUMER_KEY``).
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
        consumer_key: Optional[str] = None,
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
            consumer_key=consumer_key,
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
        self.gateway = Gateway(self)
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
