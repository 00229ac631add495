"""A real redis-server and real `python -m core worker` processes for the Redis backend's tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """redis-server on a free port in a temp folder, with a password (as off one machine)."""

    def __init__(self, folder: Path, password: str = "test-password", tls: bool = False):
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed: apt-get install -y redis-server")
        self.folder = folder
        self.port = free_port()
        self.password = password
        self.tls = tls
        self.process: subprocess.Popen | None = None
        if tls:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                check=True, capture_output=True,
            )

    @property
    def url(self) -> str:
        if self.tls:  # the client checks the server's certificate against our own CA file
            return (f"rediss://:{self.password}@localhost:{self.port}/0"
                    f"?ssl_ca_certs={self.folder / 'cert.pem'}")
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, *extra: str) -> RedisServer:
        ports = ["--port", str(self.port)]
        if self.tls:
            ports = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file",
                     str(self.folder / "cert.pem"), "--tls-key-file",
                     str(self.folder / "key.pem"), "--tls-auth-clients", "no"]
        self.process = subprocess.Popen(
            ["redis-server", *ports, "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--save", "", "--appendonly", "no", "--requirepass",
             self.password, *extra],
            stdout=(self.folder / "redis.log").open("a"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.folder / 'redis.log'}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class Worker:
    """`python -m core worker --redis URL` in its own process group."""

    def __init__(self, url: str, log: Path, *args: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core", "worker", "--redis", url, *args],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        with_group = os.getpgid(self.process.pid)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(with_group, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for_workers(manager, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while manager.worker_count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} workers did not register within {timeout} s")
        time.sleep(0.1)
