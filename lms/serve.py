"""The production server: gunicorn (threaded workers) serving ``create_app()``, plus the job
worker (``lms worker``) as a child process, in one command (``lms serve``, ``scripts/start``).

This process is gunicorn's arbiter itself, so gunicorn's signals apply unchanged:

* ``SIGHUP``: graceful restart. New web workers start with the current code and settings,
  the old ones finish their requests; the job worker is restarted too (it finishes the jobs
  it is running first).
* ``SIGTERM``: graceful stop (requests in flight finish, up to ``graceful_timeout``).
* ``SIGINT`` (Ctrl-C) and ``SIGQUIT``: quick stop.

The job worker is stopped with SIGTERM whenever the arbiter exits, and waited for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication

# Response time in microseconds (%(D)s) at the end of gunicorn's usual combined format.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


def cpu_count() -> int:
    """Cores this process may run on (a container's or a cgroup-pinned share, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(cores: int) -> int:
    """Web worker processes: one per core plus one, so a core is busy while another worker
    waits on the database. Threads inside each worker cover the I/O waits; more processes
    would only multiply memory (each holds its own search reader)."""
    return cores + 1


DEFAULT_THREADS = 4


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    workers: int
    threads: int
    timeout: int
    access_log: str | None
    with_worker: bool = True

    def gunicorn_settings(self) -> dict[str, Any]:
        return {
            "bind": [f"[{self.host}]:{self.port}" if ":" in self.host
                     else f"{self.host}:{self.port}"],
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": "gthread",
            "timeout": self.timeout,
            "graceful_timeout": 30,
            "keepalive": 5,
            # gunicorn's longest request line (its maximum): long search addresses then reach
            # the app, which cuts them with a notice (or answers the API's JSON 414).
            "limit_request_line": 8190,
            # Recycle a worker now and then (gracefully), so a slow leak never grows unbounded.
            "max_requests": 5000,
            "max_requests_jitter": 500,
            "accesslog": self.access_log,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "proc_name": "lms",
            # Never trust X-Forwarded-* for the scheme here: the app's ProxyFix decides
            # (LMS_PROXY_COUNT), for every header, in one place.
            "forwarded_allow_ips": "",
        }


def options_from(config: Mapping[str, Any], host: str, port: int, workers: int | None,
                 threads: int | None, with_worker: bool) -> ServerOptions:
    """Resolve the command's options against the settings (0 means "from the cores")."""
    cores = cpu_count()
    workers = workers or int(config["WEB_WORKERS"]) or default_workers(cores)
    threads = threads or int(config["WEB_THREADS"]) or DEFAULT_THREADS
    access_log = config["ACCESS_LOG"] or None
    return ServerOptions(host=host, port=port, workers=max(1, workers),
                         threads=max(1, threads), timeout=int(config["WEB_TIMEOUT_SECONDS"]),
                         access_log=access_log, with_worker=with_worker)


class JobWorker:
    """``lms worker`` as a child process of the arbiter."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "lms", "worker"])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # graceful: running jobs finish
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


class AppServer(BaseApplication):
    """gunicorn serving ``lms.create_app()`` (built in each web worker, after the fork)."""

    def __init__(self, options: ServerOptions, banner: str) -> None:
        self.options = options
        self.banner = banner
        self.job_worker = JobWorker() if options.with_worker else None
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.gunicorn_settings().items():
            self.cfg.set(name, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 27's control socket is one path per user (~/.gunicorn): two instances
            # on a machine would fight over it, and nothing here uses it.
            self.cfg.set("control_socket_disable", True)
        self.cfg.set("when_ready", self._when_ready)
        self.cfg.set("on_reload", self._on_reload)
        self.cfg.set("on_exit", self._on_exit)

    def load(self):
        from lms import create_app

        return create_app()

    def _when_ready(self, arbiter) -> None:
        if self.job_worker is not None:
            self.job_worker.start()
        options = self.options
        arbiter.log.info("%d web workers x %d threads; job worker: %s", options.workers,
                         options.threads, "started" if self.job_worker else "not started")
        print(self.banner, flush=True)

    def _on_reload(self, arbiter) -> None:
        if self.job_worker is not None:
            arbiter.log.info("restarting the job worker")
            self.job_worker.restart()

    def _on_exit(self, arbiter) -> None:
        if self.job_worker is not None:
            self.job_worker.stop()


def serve(options: ServerOptions, banner: str) -> None:
    """Run until stopped by a signal (see the module docstring)."""
    AppServer(options, banner).run()
