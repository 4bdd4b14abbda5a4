"""A real trytond server for the ERP adapter tests.

Building the seeded database takes about a minute, so it is built once per trytond version
into a template under ~/.cache/retailgraph and every test session starts from a copy.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

MODULES = ("sale", "sale_price_list", "sale_promotion", "stock", "product")
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "retailgraph-admin"
SEED_SCRIPT = Path(__file__).with_name("seed_tryton.py")
DEMO_CATALOG = Path(__file__).parents[3] / "retailgraph" / "demo" / "catalog.py"


@dataclass(frozen=True)
class TrytonServer:
    url: str
    database: str
    login: str
    password: str
    process: TrytonProcess = field(compare=False, repr=False)


def trytond_version() -> str:
    return importlib.metadata.version("trytond")


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "retailgraph"


def template_path() -> Path:
    """Keyed on the trytond version and on what the seed puts in, so a change rebuilds it."""
    recipe = hashlib.sha256(
        SEED_SCRIPT.read_bytes() + DEMO_CATALOG.read_bytes() + " ".join(MODULES).encode()
    ).hexdigest()
    return cache_dir() / f"tryton-{trytond_version()}-{recipe[:10]}.sqlite"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _write_config(directory: Path, port: int) -> Path:
    config = directory / "trytond.conf"
    config.write_text(
        "[database]\nuri = sqlite://\n"
        f"path = {directory}\n"
        "[web]\n"
        f"listen = 127.0.0.1:{port}\n"
        "[session]\nmax_attempt = 1000\n"
    )
    return config


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )


def build_template(target: Path) -> float:
    """Initialises and seeds a database, then moves it atomically to `target`; returns seconds."""
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tryton-build-") as tmp:
        directory = Path(tmp)
        config = _write_config(directory, 0)
        database = "template"
        (directory / f"{database}.sqlite").touch()
        passfile = directory / "password"
        passfile.write_text(ADMIN_PASSWORD + "\n")
        env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
        _run(
            [_bin("trytond-admin"), "-c", str(config), "-d", database, "--all",
             "--activate-dependencies", "--email", "admin@example.com", "-u", *MODULES],
            env,
        )  # fmt: skip
        _run([sys.executable, str(SEED_SCRIPT), str(config), database], env)
        staged = target.with_suffix(f".{os.getpid()}.tmp")
        copy_database(directory / f"{database}.sqlite", staged)
        staged.replace(target)
    return time.monotonic() - started


def copy_database(source: Path, target: Path) -> None:
    """Copies through SQLite's backup API: a plain file copy would miss pages still in the WAL."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def ensure_template() -> tuple[Path, float | None]:
    """The template, built first if missing; also the build time when this call built it.

    A lock file makes parallel sessions (pytest-xdist workers) wait for one build.
    """
    target = template_path()
    if target.exists():
        return target, None
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if target.exists():
                return target, None
            return target, build_template(target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with {process.returncode}")
        try:
            httpx.post(
                url + "rpc/", json={"method": "common.server.version", "params": []}, timeout=1
            )
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("trytond did not start in time")


class TrytonProcess:
    """One trytond on a fixed port and database; stop() and start() simulate an outage."""

    def __init__(self, directory: Path, database: str) -> None:
        self.directory = directory
        self.database = database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._config = _write_config(directory, self.port)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.directory / "trytond.log").open("ab") as log:
            self._process = subprocess.Popen(
                [_bin("trytond"), "-c", str(self._config), "-d", self.database],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_until_up(self.url, self._process, timeout=30)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@contextmanager
def running_server(template: Path, directory: Path) -> Iterator[TrytonServer]:
    database = "retailgraph"
    copy_database(template, directory / f"{database}.sqlite")
    process = TrytonProcess(directory, database)
    try:
        process.start()
        yield TrytonServer(
            url=process.url,
            database=database,
            login=ADMIN_LOGIN,
            password=ADMIN_PASSWORD,
            process=process,
        )
    finally:
        process.stop()


if __name__ == "__main__":
    path, seconds = ensure_template()
    print(f"{path}: " + ("already built" if seconds is None else f"built in {seconds:.1f}s"))
