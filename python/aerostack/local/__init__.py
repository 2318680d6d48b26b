"""The local Aerostack platform, in-process: database, cache, auth, storage, queue, secrets, AI
search, fully offline.

    from aerostack.local import LocalPlatform
    from aerostack import AerostackClient

    with LocalPlatform() as p:                  # ephemeral, on a free port
        client = AerostackClient(project_id=p.project_id, api_key=p.api_key, base_url=p.api_url)

``python -m aerostack.local`` serves one on http://127.0.0.1:8787 (persistent in
``./.aerostack/local``) until Ctrl-C.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple, Type, Union

from .._records import Record, dumps
from ..utils import seconds_ms

if TYPE_CHECKING:
    from .._client import AerostackClient, SyncAerostackClient
    from .._sdk import SDK

__all__ = ["LocalPlatform"]


class LocalPlatform:
    """An Aerostack platform running in this process, on its own threads.

    By default ephemeral (a temporary data directory removed at :meth:`stop`) on a free port of
    127.0.0.1. Pass ``data_dir=`` to keep data, ``port=8787`` for the official SDKs' local server
    index.

    The hosted platform's rate limits are off in-process (a test suite signs up many users).
    ``rate_limits`` sets some as ``{name: (count, window_seconds)}``, e.g.
    ``{"register_per_ip": (1, 60)}``, and those apply; a count of 0 disables that limit. The names,
    with the hosted values:

    - ``login_per_ip``: login attempts per client IP (10 per 60 s)
    - ``login_per_email``: login attempts per email (5 per 15 min)
    - ``register_per_ip``: sign-ups per client IP (5 per 60 s)
    - ``otp_send``: one-time codes sent per identifier (3 per 5 min)
    - ``otp_verify``: code checks per identifier (3 per 5 min)
    - ``password_reset``: password reset requests per email (3 per 15 min)
    - ``resend_verification``: verification email resends per email (3 per 60 s)
    - ``cache_flush``: ``cache.flush`` calls per project (5 per 60 s)

    An unknown name raises :class:`aerostack.errors.ValidationError` naming it and listing these.
    ``hosted_rate_limits=True`` turns the hosted values on for the limits not named (what
    ``python -m aerostack.local`` does for a persistent data directory).
    From the command line: ``python -m aerostack.local --rate-limit register_per_ip=100/60s``
    (repeatable; the window also takes ``500ms``, ``15m``, ``1h``) and ``--no-rate-limits``.

    With ``print_banner=True`` (as ``python -m aerostack.local`` does) the platform also
    announces itself while it runs, so ``aerostack-server outbox --url <url>`` (and ``projects``,
    ``keys``, ``secrets``) find it; the banner prints that command.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Union[str, "os.PathLike[str]", None] = None,
        ephemeral: Optional[bool] = None,
        project_dir: Union[str, "os.PathLike[str]", None] = None,
        print_banner: bool = False,
        require_email_verification: bool = False,
        ai_base_url: Optional[str] = None,
        ai_api_key: Optional[str] = None,
        ai_model: Optional[str] = None,
        max_upload_bytes: Optional[int] = None,
        rate_limits: Optional[Mapping[str, Tuple[int, float]]] = None,
        hosted_rate_limits: Optional[bool] = None,
        from_env: bool = True,
        start: bool = True,
    ) -> None:
        self._options: Dict[str, Any] = {
            "host": host,
            "port": port,
            "data_dir": os.fspath(data_dir) if data_dir is not None else None,
            "ephemeral": (data_dir is None) if ephemeral is None else ephemeral,
            "project_dir": os.fspath(project_dir) if project_dir is not None else None,
            "print_banner": print_banner,
            "require_email_verification": require_email_verification,
            "ai_base_url": ai_base_url,
            "ai_api_key": ai_api_key,
            "ai_model": ai_model,
            "max_upload_bytes": max_upload_bytes,
            # (count, window seconds) here; [count, window_ms] for the engine.
            "rate_limits": {k: [int(v[0]), seconds_ms(f"rate_limits[{k!r}] window", v[1])] for k, v in rate_limits.items()}
            if rate_limits else None,
            "hosted_rate_limits": hosted_rate_limits,
            "from_env": from_env,
        }
        self._native: Any = None
        if start:
            self.start()

    def start(self) -> "LocalPlatform":
        """Starts the platform (done by the constructor unless ``start=False``)."""
        if self._native is None:
            from .. import _native
            from ..errors import _from_native

            try:
                self._native = _native.LocalPlatform(dumps(self._options))
            except _native.NativeError as e:
                raise _from_native(e) from None
        return self

    def _n(self) -> Any:
        if self._native is None:
            raise RuntimeError("the local platform is not running: call start() or use `with LocalPlatform() as p:`")
        return self._native

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return str(self._n().url)

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: the ``base_url`` for clients."""
        return str(self._n().api_url)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def project_id(self) -> str:
        """The default project's id."""
        return str(self._n().project_id)

    @property
    def project_slug(self) -> str:
        return str(self._n().project_slug)

    @property
    def api_key(self) -> str:
        """The default project's API key."""
        return str(self._n().api_key)

    @property
    def data_dir(self) -> str:
        return str(self._n().data_dir)

    @property
    def running(self) -> bool:
        return self._native is not None and bool(self._native.running)

    def create_project(self, name: str) -> Record:
        """A new project: ``{id, slug, name, api_key}``."""
        return Record(self._n().create_project(name))

    def client(self, **kwargs: Any) -> "AerostackClient":
        """An async client for the default project."""
        from .._client import AerostackClient

        return AerostackClient(project_id=self.project_id, api_key=self.api_key, base_url=self.api_url, **kwargs)

    def sync_client(self, **kwargs: Any) -> "SyncAerostackClient":
        """A blocking client for the default project."""
        from .._client import SyncAerostackClient

        return SyncAerostackClient(project_id=self.project_id, api_key=self.api_key, base_url=self.api_url, **kwargs)

    def sdk(self, **kwargs: Any) -> "SDK":
        """A seed-002 ``SDK`` for the default project."""
        from .._sdk import SDK

        return SDK(api_key_auth=self.api_key, server_url=self.api_url, **kwargs)

    def stop(self) -> None:
        """Stops the platform and frees the port (ephemeral data is removed). Idempotent."""
        if self._native is not None:
            self._native.shutdown()
            self._native = None

    shutdown = stop

    def __enter__(self) -> "LocalPlatform":
        return self.start()

    def __exit__(self, et: Optional[Type[BaseException]], e: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self._native is None:
            return "<LocalPlatform (stopped)>"
        return f"<LocalPlatform {self.api_url} project={self.project_id}>"
