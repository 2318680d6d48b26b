"""``python -m aerostack.local``: serve the local platform until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import List, Optional

from . import LocalPlatform


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m aerostack.local", description="Serve the local Aerostack platform.")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = a free port)")
    ap.add_argument("--data-dir", default=None, help="data directory (default ./.aerostack/local)")
    ap.add_argument("--ephemeral", action="store_true", help="keep data in a temp dir removed at exit")
    args = ap.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    platform = LocalPlatform(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir if args.data_dir else (None if args.ephemeral else ".aerostack/local"),
        ephemeral=args.ephemeral,
        print_banner=True,
    )
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
