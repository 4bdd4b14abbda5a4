"""Starting, watching and stopping the processes of a benchmark run.

CPU time is read from /proc for the whole process tree, because a gateway command such
as ``uv run retailgraph gateway`` runs the server as a child, and a gateway may fork
workers; what it spent is what all of them spent.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group this run created, then SIGKILL what remains."""
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=grace)


def start(
    name: str,
    command: str,
    *,
    cpu: int | None,
    log_dir: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> Started:
    """Start ``command`` (a shell-style string) in its own session, pinned to ``cpu``."""
    argv = shlex.split(command)
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    log_path = log_dir / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    log_file.close()
    return Started(name=name, process=process, log_path=log_path)


def tree_cpu_seconds(root_pid: int) -> float:
    """utime+stime of ``root_pid`` and every live descendant, plus their reaped children."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; the fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry)
        parents[pid] = int(fields[1])
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        ticks[pid] = utime + stime + cutime + cstime
    total = 0
    for pid in ticks:
        ancestor = pid
        while ancestor not in (root_pid, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root_pid:
            total += ticks[pid]
    return total / CLOCK_TICKS


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of ``root_pid`` and every live descendant, in MiB."""
    parents: dict[int, int] = {}
    pages: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
        pages[pid] = int(statm.split()[1])
    total = 0
    for pid, resident in pages.items():
        ancestor = pid
        while ancestor not in (root_pid, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root_pid:
            total += resident
    return total * PAGE_SIZE / 2**20


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def wait_until_idle(root_pid: int, timeout: float, busy_share: float = 0.05) -> bool:
    """Wait until the process tree uses under ``busy_share`` of a CPU over half a second."""
    deadline = time.monotonic() + timeout
    last = tree_cpu_seconds(root_pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = tree_cpu_seconds(root_pid)
        if now - last < 0.5 * busy_share:
            return True
        last = now
    return False
