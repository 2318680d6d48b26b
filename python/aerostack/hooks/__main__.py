"""``python -m aerostack.hooks path/to/handlers.py``: the Python hooks runner.

Loads the file (its ``if __name__ == "__main__"`` block does not run), then serves what it
registered, on :data:`aerostack.hooks.default` or on the :class:`~aerostack.hooks.Hooks` object
named by ``--app`` (or the only one the file defines), until Ctrl-C / SIGTERM (graceful drain).
The key and URL come from ``--api-key`` / ``--base-url`` or ``AEROSTACK_API_KEY`` /
``AEROSTACK_API_URL``.
"""

from __future__ import annotations

import argparse
import logging
import runpy
import sys
from typing import Any, List, Optional

from . import Hooks, default


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m aerostack.hooks", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("path", help="the Python file that registers handlers (@hooks.module, @hooks.job)")
    p.add_argument("--app", help="name of the Hooks object in the file (default: the only one, or aerostack.hooks.default)")
    p.add_argument("--api-key", help="the project's API key (default: AEROSTACK_API_KEY)")
    p.add_argument("--base-url", help="the platform URL, e.g. http://127.0.0.1:8787/v1 (default: AEROSTACK_API_URL)")
    p.add_argument("--concurrency", type=int, help="most queue jobs at once (default 4)")
    p.add_argument("--max-threads", type=int, help="threads for plain `def` handlers (default 16)")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if a.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ns = runpy.run_path(a.path, run_name="__aerostack_hooks__")
    app: Any
    if a.app:
        app = ns.get(a.app)
        if not isinstance(app, Hooks):
            p.error(f"{a.path} has no Hooks object named {a.app!r}")
    else:
        found = [v for v in ns.values() if isinstance(v, Hooks) and v is not default]
        app = found[0] if len(found) == 1 and not (default._modules or default._jobs) else default
    if not (app._modules or app._jobs):
        p.error(f"{a.path} registers no handler: decorate functions with @hooks.module(...) or @hooks.job")
    app.run(api_key=a.api_key, base_url=a.base_url, concurrency=a.concurrency, max_threads=a.max_threads)
    return 0


def _exit(code: int) -> None:
    """Ends the process without interpreter finalization: the worker has drained and answered
    everything, and finalizing while engine threads still hold Python objects (handler threads,
    pending futures) is a source of crashes at exit, not of anything useful."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
