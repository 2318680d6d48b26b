"""``python -m aerostack.local``: serve the local platform until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from .. import _native
from . import LocalPlatform


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m aerostack.local",
        description="Serve the local Aerostack platform.",
        epilog=_native.rate_limit_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = a free port)")
    ap.add_argument("--data-dir", default=None, help="data directory (default ./.aerostack/local)")
    ap.add_argument("--ephemeral", action="store_true", help="keep data in a temp dir removed at exit")
    ap.add_argument("--rate-limit", dest="rate_limits", action="append", default=[],
                    metavar="NAME=COUNT/WINDOW",
                    help="set one rate limit, e.g. register_per_ip=100/60s (repeatable; COUNT 0 or NAME=off "
                         "disables it); the names are listed below")
    ap.add_argument("--no-rate-limits", action="store_true",
                    help="disable every rate limit (those named with --rate-limit still apply); "
                         "the hosted limits are on for a persistent data directory, off with --ephemeral")
    return ap


def options(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """The ``LocalPlatform`` keyword arguments for the command line ``argv``."""
    ap = parser()
    args = ap.parse_args(argv)
    try:  # the platform parses the flags (the same code as aerostack-server's)
        parsed = json.loads(_native.rate_limits_from_flags(args.rate_limits, args.no_rate_limits))
    except _native.NativeError as e:
        ap.error(f"argument --rate-limit: {e.args[0]}")
    limits: Dict[str, Tuple[int, float]] = {name: (int(c), w / 1000.0) for name, (c, w) in parsed.items()}
    return dict(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir if args.data_dir else (None if args.ephemeral else ".aerostack/local"),
        ephemeral=args.ephemeral,
        rate_limits=limits or None,
        # As aerostack-server: the hosted limits on for a persistent data directory only.
        hosted_rate_limits=not args.ephemeral,
        print_banner=True,
    )


def main(argv: Optional[List[str]] = None) -> int:
    kwargs = options(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    platform = LocalPlatform(**kwargs)
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        platform.stop()
        print("  Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
