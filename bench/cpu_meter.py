"""CPU seconds spent by the processes of a bench run (this one, its pool workers, the SMTP
server, PostgreSQL), read from /proc: where an invitation's CPU goes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bot.jobs import cpu


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def postgres_pids(data_dir: Path) -> list[int]:
    """The embedded server and its backends; with DPABOT_DATABASE_URL every postgres process
    on the machine (other users' work included)."""
    postmaster = None
    for pid_file in data_dir.glob("pg/**/postmaster.pid"):
        postmaster = int(pid_file.read_text().split()[0])
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if postmaster is None or int(entry.name) == postmaster or ppid == postmaster:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds per process group over one timed stretch: where the time goes."""

    def __init__(self, server_pid: int, data_dir: Path) -> None:
        self.groups: dict[str, Any] = {
            "main": lambda: [os.getpid()],
            "render_pool": cpu.pids,
            "smtpd": lambda: [server_pid],
            "postgres": lambda: postgres_pids(data_dir),
        }

    def start(self) -> None:
        self.pids = {name: get() for name, get in self.groups.items()}
        self.t0 = {name: cpu_seconds(p) for name, p in self.pids.items()}

    def stop(self) -> dict[str, float]:
        # Processes started meanwhile (database backends) count from zero.
        return {
            name: cpu_seconds(sorted(set(self.pids[name]) | set(get()))) - self.t0[name]
            for name, get in self.groups.items()
        }
