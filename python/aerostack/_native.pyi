"""Type stubs of the Rust extension ``aerostack._native`` (bindings/python).

Type conversion only: operations are named as in ``operations()`` and take JSON arguments (the
engine's snake_case names); answers are JSON text. The Python package builds its API on top.
"""

from typing import Any, Awaitable, Dict, List, Optional, Tuple

__version__: str

class NativeError(Exception):
    """Every engine failure. ``args`` = (message, code, status, request_id, retryable,
    retry_after seconds, details JSON, body, family)."""

    args: Tuple[str, str, Optional[int], Optional[str], bool, Optional[float], Optional[str], Optional[str], str]

class NativeClient:
    """One engine client (one connection pool). ``config_json``: the engine's ClientConfig."""

    def __init__(self, config_json: str) -> None: ...
    def call(self, op: str, args_json: str) -> str:
        """Runs an operation with the GIL released; the JSON answer."""
    def call_async(self, op: str, args_json: str) -> Awaitable[str]:
        """``call`` as an asyncio awaitable (needs a running event loop)."""
    def upload(self, args_json: str, data: Optional[bytes] = None) -> str:
        """``storage.upload`` from ``data``, or from the file at ``args.path`` when ``data`` is None."""
    def upload_async(self, args_json: str, data: Optional[bytes] = None) -> Awaitable[str]: ...
    def download(self, args_json: str) -> Tuple[bytes, Optional[str]]:
        """``storage.get``: (content, content type)."""
    def download_async(self, args_json: str) -> Awaitable[Tuple[bytes, Optional[str]]]: ...

class LocalPlatform:
    """The local platform in-process, on its own threads. ``options_json``: host, port (0 = free),
    data_dir, ephemeral, project_dir, print_banner, require_email_verification, ai_base_url,
    ai_api_key, ai_model, max_upload_bytes, rate_limits ({name: [count, window_seconds]}), from_env."""

    url: str
    api_url: str
    project_id: str
    project_slug: str
    api_key: str
    data_dir: str
    running: bool
    def __init__(self, options_json: str = "{}") -> None: ...
    def create_project(self, name: str) -> Dict[str, Any]: ...
    def shutdown(self) -> None: ...

def engine_version() -> str: ...
def operations() -> List[str]: ...
