"""``python -m aerostack.local``: serve the local platform until Ctrl-C."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from . import LocalPlatform

#: The rate limits ``--rate-limit`` (and ``LocalPlatform(rate_limits=...)``) can set.
RATE_LIMIT_NAMES = (
    "login_per_ip",
    "login_per_email",
    "register_per_ip",
    "otp_send",
    "otp_verify",
    "password_reset",
    "resend_verification",
    "cache_flush",
)

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

_EPILOG = """\
rate limits (--rate-limit NAME=COUNT/WINDOW, repeatable; COUNT 0 or NAME=off disables one):
  login_per_ip          login attempts per client IP           (default 10/60s)
  login_per_email       login attempts per email               (default 5/15m)
  register_per_ip       sign-ups per client IP                 (default 5/60s)
  otp_send              one-time codes sent per identifier     (default 3/5m)
  otp_verify            code checks per identifier             (default 3/5m)
  password_reset        password reset requests per email      (default 3/15m)
  resend_verification   verification email resends per email   (default 3/60s)
  cache_flush           /v1/cache/flush calls per project      (default 5/60s)
WINDOW is seconds (60) or a duration with a unit: 500ms, 60s, 15m, 1h.
--no-rate-limits disables all of them (with --rate-limit too: all off except those named).
"""


def parse_rate_limit(text: str) -> Tuple[str, Tuple[int, float]]:
    """``NAME=COUNT/WINDOW`` (or ``NAME=off``) -> ``(name, (count, window_seconds))``."""
    names = ", ".join(RATE_LIMIT_NAMES)
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep:
        raise argparse.ArgumentTypeError(
            f"expected NAME=COUNT/WINDOW, e.g. register_per_ip=100/60s; NAME is one of {names}")
    if name not in RATE_LIMIT_NAMES:
        raise argparse.ArgumentTypeError(f"unknown rate limit {name!r} in {text!r}; valid names: {names}")
    if value.lower() == "off":
        return name, (0, 60.0)
    count_text, sep, window_text = value.partition("/")
    if not sep:
        raise argparse.ArgumentTypeError(
            f"expected {name}=COUNT/WINDOW (e.g. {name}=100/60s) or {name}=off, got {text!r}")
    if not count_text.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"COUNT must be a whole number (0 disables the limit), got {count_text!r} in {text!r}")
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", window_text)
    window = float(m.group(1)) * _UNITS[m.group(2) or "s"] if m else 0.0
    if window <= 0:
        raise argparse.ArgumentTypeError(
            "WINDOW must be a duration above zero: seconds (60) or with a unit (500ms, 60s, 15m, 1h), "
            f"got {window_text!r} in {text!r}")
    return name, (int(count_text), window)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m aerostack.local",
        description="Serve the local Aerostack platform.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = a free port)")
    ap.add_argument("--data-dir", default=None, help="data directory (default ./.aerostack/local)")
    ap.add_argument("--ephemeral", action="store_true", help="keep data in a temp dir removed at exit")
    ap.add_argument("--rate-limit", dest="rate_limits", action="append", default=[], type=parse_rate_limit,
                    metavar="NAME=COUNT/WINDOW",
                    help="set one rate limit, e.g. register_per_ip=100/60s (repeatable; COUNT 0 or NAME=off "
                         "disables it); the names are listed below")
    ap.add_argument("--no-rate-limits", action="store_true",
                    help="disable every rate limit (those named with --rate-limit still apply)")
    return ap


def options(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """The ``LocalPlatform`` keyword arguments for the command line ``argv``."""
    args = parser().parse_args(argv)
    limits: Dict[str, Tuple[int, float]] = {}
    if args.no_rate_limits:
        limits = {name: (0, 60.0) for name in RATE_LIMIT_NAMES}
    limits.update(dict(args.rate_limits))
    return dict(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir if args.data_dir else (None if args.ephemeral else ".aerostack/local"),
        ephemeral=args.ephemeral,
        rate_limits=limits or None,
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
