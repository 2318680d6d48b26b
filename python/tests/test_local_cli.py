"""``python -m aerostack.local``'s rate limit flags, ending at a real platform (item 9 of issue 14)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest

from aerostack.local import LocalPlatform
from aerostack.local.__main__ import options, parser

NAMES = ("login_per_ip, login_per_email, register_per_ip, otp_send, otp_verify, password_reset, "
         "resend_verification, cache_flush")
RATE_LIMIT_NAMES = NAMES.split(", ")


def register(p: LocalPlatform, email: str) -> int:
    req = urllib.request.Request(
        f"{p.url}/api/v1/public/projects/default/auth/register",
        data=json.dumps({"email": email, "password": "Sup3rSecret"}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_flags_become_rate_limits() -> None:
    kw = options(["--port", "0", "--ephemeral", "--rate-limit", "register_per_ip=1/60s",
                  "--rate-limit", "otp_send=2/5m", "--rate-limit", "cache_flush=off"])
    assert kw["rate_limits"] == {"register_per_ip": (1, 60.0), "otp_send": (2, 300.0), "cache_flush": (0, 60.0)}
    assert options(["--rate-limit", "login_per_ip=3/500ms"])["rate_limits"] == {"login_per_ip": (3, 0.5)}
    assert options(["--rate-limit", "login_per_ip=3/90"])["rate_limits"] == {"login_per_ip": (3, 90.0)}
    assert options([])["rate_limits"] is None
    # The hosted limits: on for a persistent data directory, off with --ephemeral.
    assert options([])["hosted_rate_limits"] is True
    assert options(["--ephemeral"])["hosted_rate_limits"] is False
    off = options(["--no-rate-limits", "--rate-limit", "otp_send=1/1h"])["rate_limits"]
    assert set(off) == set(RATE_LIMIT_NAMES) and off["otp_send"] == (1, 3600.0) and off["login_per_ip"][0] == 0
    help_text = parser().format_help()
    assert "--rate-limit NAME=COUNT/WINDOW" in help_text and "--no-rate-limits" in help_text
    assert all(name in help_text for name in RATE_LIMIT_NAMES)


@pytest.mark.parametrize("bad,says", [
    ("logins=1/60", f'unknown rate limit "logins"; valid names: {NAMES}'),
    ("register_per_ip", f"expected NAME=COUNT/WINDOW, e.g. register_per_ip=100/60s; NAME is one of {NAMES}"),
    ("register_per_ip=x/60", "COUNT must be a whole number"),
    ("register_per_ip=1/0", "WINDOW must be a duration above zero"),
    ("register_per_ip=1/5d", "WINDOW must be a duration above zero"),
])
def test_a_bad_flag_names_it(bad: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        options(["--rate-limit", bad])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --rate-limit" in err and says in err, err


def test_the_limits_reach_the_platform() -> None:
    kw = options(["--port", "0", "--ephemeral", "--rate-limit", "register_per_ip=1/60s"])
    kw["print_banner"] = False
    with LocalPlatform(from_env=False, **kw) as p:
        assert register(p, "a@example.com") == 201
        assert register(p, "b@example.com") == 429
    kw = options(["--port", "0", "--ephemeral", "--no-rate-limits"])
    kw["print_banner"] = False
    with LocalPlatform(from_env=False, **kw) as p:
        assert [register(p, f"u{i}@example.com") for i in range(7)] == [201] * 7
    # Ephemeral by default: the hosted limits are off.
    kw = options(["--port", "0", "--ephemeral"])
    kw["print_banner"] = False
    with LocalPlatform(from_env=False, **kw) as p:
        assert [register(p, f"e{i}@example.com") for i in range(7)] == [201] * 7


def test_a_persistent_data_dir_keeps_the_hosted_limits(tmp_path: "os.PathLike[str]") -> None:
    kw = options(["--port", "0", "--data-dir", str(tmp_path)])
    kw["print_banner"] = False
    with LocalPlatform(from_env=False, **kw) as p:
        assert [register(p, f"h{i}@example.com") for i in range(6)] == [201] * 5 + [429]
