"""Probe 1: kill -9 under mixed write load, with acknowledged-write accounting.

Writer threads (db insert, cache set, cache setMany, queue enqueue, collection create, persisted
realtime emit) write against a persistent data directory and record every write the platform
answered with a 2xx. The server is SIGKILLed mid-load, restarted on the same directory, and every
write acknowledged so far (this round and the earlier ones) is looked up: each one missing is a
lost acknowledged write."""

from __future__ import annotations

import random
import shutil
import threading
import time
from typing import Callable, Dict, List, Set

from platform_proc import Http, Platform, keyed, start, temp_workdir
from result import Result

KINDS = ("db", "cache", "cache_many", "queue", "collection", "emit")


class Acked:
    """Acknowledged writes per kind (ids the lookups after restart must find)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: Dict[str, List[str]] = {k: [] for k in KINDS}
        self.sent = 0
        self.requests = 0  # acknowledged requests (a setMany acknowledges 20 keys)

    def add(self, kind: str, ids: List[str]) -> None:
        with self.lock:
            self.ids[kind].extend(ids)
            self.requests += 1

    def count(self) -> int:
        return sum(len(v) for v in self.ids.values())


def writer(p: Platform, kind: str, rnd: int, tid: int, acked: Acked, stop: threading.Event,
           max_writes: int) -> None:
    http = Http(p, timeout=10)
    h = keyed(p.key)
    n = 0
    while not stop.is_set() and n < max_writes:
        n += 1
        tag = f"r{rnd}-t{tid}-{n}"
        with acked.lock:
            acked.sent += 1
        try:
            if kind == "db":
                s, b = http.request("POST", "/v1/db/query", {
                    "sql": "INSERT INTO rel_writes (tag) VALUES (?)", "params": [tag]}, h)
                ids = [tag]
            elif kind == "cache":
                s, b = http.request("POST", "/v1/cache/set", {"key": f"rel:{tag}", "value": n}, h)
                ids = [f"rel:{tag}"]
            elif kind == "cache_many":
                keys = [f"relm:{tag}:{i}" for i in range(20)]
                s, b = http.request("POST", "/v1/cache/setMany", {
                    "entries": [{"key": k, "value": i} for i, k in enumerate(keys)]}, h)
                ids = keys
            elif kind == "queue":
                s, b = http.request("POST", "/v1/queue/enqueue", {
                    "type": "rel-probe", "data": {"tag": tag}}, h)
                ids = [b["jobId"]] if 200 <= s < 300 else []
            elif kind == "collection":
                s, b = http.request("POST", "/v1/collections/relkill/items", {"tag": tag}, h)
                ids = [b["id"]] if 200 <= s < 300 else []
            else:
                s, b = http.request("POST", "/v1/realtime/emit", {
                    "event": "rel", "data": {"tag": tag}, "room": f"relkill/r{rnd}",
                    "persist": True}, h)
                ids = [b["id"]] if 200 <= s < 300 and b.get("persisted") else []
        except Exception:
            # no answer (the kill): not acknowledged, so not counted; stop once it is dead
            if stop.is_set() or not p.alive():
                break
            time.sleep(0.05)
            continue
        if 200 <= s < 300 and ids:
            acked.add(kind, ids)
    http.close()


def sql_all(http: Http, key: str, sql: str, params: List[str]) -> Set[str]:
    """Every value of a one-column keyset-paged query (`... > ? ORDER BY 1 LIMIT 5000`)."""
    out: Set[str] = set()
    last = ""
    while True:
        s, b = http.request("POST", "/v1/db/query", {"sql": sql, "params": params + [last]},
                            keyed(key), timeout=60)
        if s != 200:
            raise RuntimeError(f"lookup query answered {s}: {str(b)[:200]}")
        rows = b.get("results") or b.get("rows") or []
        vals = [r[0] if isinstance(r, list) else next(iter(r.values())) for r in rows]
        out.update(vals)
        if len(vals) < 5000:
            return out
        last = vals[-1]


def missing(p: Platform, acked: Acked, rounds: int) -> Dict[str, int]:
    """How many acknowledged writes of each kind the restarted platform does not have."""
    http = Http(p, timeout=30)
    h = keyed(p.key)
    lost: Dict[str, int] = {}
    have = sql_all(http, p.key, "SELECT tag FROM rel_writes WHERE tag > ? ORDER BY tag LIMIT 5000", [])
    lost["db"] = sum(1 for t in acked.ids["db"] if t not in have)
    have = sql_all(http, p.key, "SELECT id FROM _aerostack_collection_items WHERE collection = ? "
                   "AND id > ? ORDER BY id LIMIT 5000", ["relkill"])
    lost["collection"] = sum(1 for t in acked.ids["collection"] if t not in have)
    for kind in ("cache", "cache_many"):
        keys = acked.ids[kind]
        gone = 0
        for i in range(0, len(keys), 100):
            s, b = http.request("POST", "/v1/cache/getMany", {"keys": keys[i:i + 100]}, h)
            if s != 200:
                raise RuntimeError(f"cache/getMany answered {s}: {str(b)[:200]}")
            gone += sum(1 for r in b["results"] if not r.get("exists"))
        lost[kind] = gone
    gone = 0
    for job in acked.ids["queue"]:
        s, b = http.request("POST", "/v1/queue/job", {"jobId": job}, h)
        if s != 200:
            raise RuntimeError(f"queue/job answered {s}: {str(b)[:200]}")
        if not b.get("exists"):
            gone += 1
    lost["queue"] = gone
    have = set()
    for rnd in range(rounds):
        since, since_seq = 0, 0
        while True:
            s, b = http.request("GET", f"/api/v1/public/realtime/history?room=relkill/r{rnd}"
                                f"&limit=200&since={since}&since_seq={since_seq}", None, h)
            if s != 200:
                raise RuntimeError(f"realtime history answered {s}: {str(b)[:200]}")
            msgs = b["messages"]
            have.update(m["id"] for m in msgs)
            if len(msgs) < 200:
                break
            since, since_seq = msgs[-1]["created_at"], msgs[-1]["seq"]
    lost["emit"] = sum(1 for t in acked.ids["emit"] if t not in have)
    http.close()
    return lost


def run(quick: bool) -> Result:
    res = Result("kill -9 under mixed write load")
    rounds = 1 if quick else 4
    threads_per_kind = 1 if quick else 2
    max_writes = 3000 if quick else 20000  # per thread per round: bounded in count
    work = temp_workdir("kill9")
    data_dir = work / "data"
    acked = Acked()
    p = start(work, data_dir=data_dir, tag="kill9")
    try:
        s, b = Http(p).request("POST", "/v1/db/query", {
            "sql": "CREATE TABLE IF NOT EXISTS rel_writes (tag TEXT PRIMARY KEY)"}, keyed(p.key))
        if s != 200:
            res.fail(f"create table answered {s}: {b}")
            return res
        for rnd in range(rounds):
            stop = threading.Event()
            ts = [threading.Thread(target=writer, args=(p, kind, rnd, rnd * 100 + i * 10 + j,
                                                        acked, stop, max_writes), daemon=True)
                  for i, kind in enumerate(KINDS) for j in range(threads_per_kind)]
            for t in ts:
                t.start()
            # kill at a random point of the load: after a random number of acknowledged
            # writes, or at the time bound, whichever comes first
            target = acked.requests + (random.randint(300, 900) if quick
                                       else random.randint(2000, 8000))
            deadline = time.monotonic() + (4.0 if quick else 15.0)
            while acked.requests < target and time.monotonic() < deadline:
                time.sleep(0.005)
            running = sum(t.is_alive() for t in ts)
            before = acked.requests
            p.kill9()
            if running < len(ts):
                res.fail(f"round {rnd}: only {running} of {len(ts)} writers still running at the "
                         "kill (raise max_writes)")
            stop.set()
            for t in ts:
                t.join(timeout=15)
            try:
                p = start(work, data_dir=data_dir, tag="kill9")
            except RuntimeError as e:
                res.fail(f"round {rnd}: restart after kill -9 failed: {e}")
                return res
            if before == 0:
                res.fail(f"round {rnd}: no write was acknowledged before the kill")
                continue
            try:
                lost = missing(p, acked, rnd + 1)
            except Exception as e:  # a lookup that fails is a failure, not a pass
                res.fail(f"round {rnd}: looking the writes up failed: {e}")
                continue
            res.ok()
            n_lost = sum(lost.values())
            res.lost = max(res.lost, n_lost)  # cumulative lookups: the last round holds all
            if n_lost:
                res.notes.append(f"round {rnd}: lost " + ", ".join(
                    f"{k} {v}" for k, v in lost.items() if v))
        per_kind = ", ".join(f"{k} {len(v)}" for k, v in acked.ids.items())
        res.notes.insert(0, f"{rounds} kill -9 round(s), {acked.sent} write requests sent, {acked.requests} acknowledged, "
                            f"holding {acked.count()} writes ({per_kind}), all looked up after restart")
        return res
    finally:
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
