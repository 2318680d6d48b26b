"""What one probe found: tries, failures (each with a note), acknowledged writes lost."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import List


@dataclass
class Result:
    probe: str
    tries: int = 0
    failures: int = 0
    lost: int = 0
    notes: List[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ok(self, n: int = 1) -> None:
        with self.lock:
            self.tries += n

    def fail(self, note: str) -> None:
        """One try that failed; the first notes are kept for the report."""
        with self.lock:
            self.tries += 1
            self.failures += 1
            if len(self.notes) < 12:
                self.notes.append(note)

    def check(self, problem: "str | None", what: str) -> None:
        """A try whose outcome is `problem` (None: as expected)."""
        if problem is None:
            self.ok()
        else:
            self.fail(f"{what}: {problem}")
