"""Fixtures for tests that run real Celery workers against the real Redis broker.

The workers are separate processes: they see only committed data, so the tests use
`transactional_db`, and they are pointed at the *test* database that pytest-django created.
The broker is a Redis database used only by these tests (number 15 of the configured Redis
unless CELERY_TEST_BROKER_URL names another); it is flushed before each test, and each test
routes its tasks to a queue of its own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings

from pcp.celery import app as celery_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_DB = 15
DEADLINE = 60.0  # seconds: no wait in these tests is unbounded


def broker_url_for_tests() -> str:
    """The broker URL these tests use: the configured Redis, database 15 (test-only)."""
    explicit = os.environ.get("CELERY_TEST_BROKER_URL", "")
    if explicit:
        return explicit
    configured = settings.CELERY_BROKER_URL
    parts = urlsplit(configured)
    return urlunsplit((parts.scheme, parts.netloc, f"/{TEST_REDIS_DB}", "", ""))


def database_url() -> str:
    """A DATABASE_URL naming the test database pytest-django set up (not the real one)."""
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def wait_for(
    predicate: Callable[[], object], what: str, *, timeout: float = DEADLINE, logs=()
) -> object:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {w.name} ---\n{w.log()[-4000:]}" for w in logs)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")
        time.sleep(0.2)


def closed_port() -> int:
    """A local TCP port nothing listens on (a broker that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def received(self, task_name: str) -> list[str]:
        """Ids of the tasks called `task_name` this worker has received."""
        return re.findall(rf"{re.escape(task_name)}\[([0-9a-f-]+)\] received", self.log())

    def succeeded(self, task_id: str) -> bool:
        return re.search(rf"\[{re.escape(task_id)}\] succeeded", self.log()) is not None

    def wait_ready(self) -> None:
        wait_for(
            lambda: " ready." in self.log() or self.process.poll() is not None,
            f"worker {self.name} to start",
            logs=[self],
        )
        assert self.process.poll() is None, f"worker {self.name} exited:\n{self.log()}"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the worker's whole process group and wait (bounded) for it to end."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


@dataclass
class Broker:
    """The test broker, the queue of this test, and the workers started on it."""

    url: str
    queue: str
    tmp_path: Path
    redis: object
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self, name: str, *, wait: bool = True, **env: str) -> Worker:
        """Start `celery -A pcp worker` (solo pool: one task at a time) on this test's queue."""
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "pcp.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.url,
            "RECOMPUTE_FAULT_PAUSE_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        log_path = self.tmp_path / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "pcp",
                    "worker",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "-Q",
                    self.queue,
                    "-n",
                    f"{name}-{self.queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )
        worker = Worker(name, process, log_path)
        self.workers.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    def queue_length(self) -> int:
        return self.redis.llen(self.queue)

    def unacked(self) -> dict[str, float]:
        """Delivered but unacknowledged messages: delivery tag → time delivered."""
        return {
            tag.decode(): score
            for tag, score in self.redis.zrange("unacked_index", 0, -1, withscores=True)
        }


def publish_to(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make this process's Celery app publish to `url` from now on.

    Celery reads CELERY_BROKER_URL from the environment before its configuration, so the
    environment is changed as well as the configuration, and the cached connection and
    producer pools (bound to the previous URL) are dropped.
    """
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    celery_app.conf.broker_url = url
    _drop_pools()


def _drop_pools() -> None:
    # kombu keeps one connection pool per broker URL for the whole process; only the app's
    # references are dropped, so the next publish looks up the pool of the current URL.
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def broker_down(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Publish to a port nothing listens on inside the block, to the test broker after."""
    publish_to(f"redis://127.0.0.1:{closed_port()}/0", monkeypatch)
    try:
        yield
    finally:
        publish_to(broker.url, monkeypatch)


@pytest.fixture
def broker(transactional_db, tmp_path, monkeypatch) -> Iterator[Broker]:
    """A flushed test broker, publishing from this process to a queue of this test's own.

    Workers started through it are killed (whole process group) when the test ends, before
    pytest-django empties the database.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the worker is another process and must share the database")
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs CELERY_BROKER_URL (a Redis broker) to run a real worker")
    import redis

    url = broker_url_for_tests()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis broker at {url} is not reachable: {exc}")
    client.flushdb()

    saved = {
        key: celery_app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_default_queue")
    }
    queue = f"pcp-test-{uuid.uuid4().hex[:10]}"
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    publish_to(url, monkeypatch)
    state = Broker(url=url, queue=queue, tmp_path=tmp_path, redis=client)
    try:
        yield state
    finally:
        for worker in state.workers:
            worker.kill()
        for key, value in saved.items():
            celery_app.conf[key] = value
        _drop_pools()  # monkeypatch restores the environment after this fixture ends
        client.flushdb()
        client.close()
