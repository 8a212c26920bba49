"""Shared fixtures: start the real hallcast daemon on a free port with a
temporary data folder, and talk to it over plain HTTP.

Every integration test uses `gateway` (one demo test stream) or
`gateway_factory(streams=..., extra=...)` for its own configuration."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("HC_BUILD_DIR", ROOT / "build"))
BINARY = BUILD / "gateway" / "hallcast"


def free_port(kind=socket.SOCK_STREAM):
    """A port that is free on 127.0.0.1 right now (TCP by default)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, interval=0.2, what="condition"):
    """Polls cond() until it returns a truthy value; fails the test after timeout s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Gateway:
    """One hallcast process with its own port, config file and data folder."""

    def __init__(self, workdir, streams=None, extra="", log_level="debug", gateway_keys=None):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.data_dir = self.dir / "var"
        self.config = self.dir / "hallcast.conf"
        if streams is None:
            streams = {"demo": "test://"}
        text = (
            "[gateway]\n"
            "http_address=127.0.0.1\n"
            f"http_port={self.port}\n"
            f"data_dir={self.data_dir}\n"
            f"log_level={log_level}\n"
        )
        for key, value in (gateway_keys or {}).items():
            text += f"{key}={value}\n"
        for name, url in streams.items():
            text += f"\n[stream {name}]\nurl={url}\n"
        self.config.write_text(text + "\n" + extra)
        self.log_path = self.dir / "hallcast.log"
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BINARY), "--config", str(self.config)],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"hallcast exited with {self.proc.returncode}:\n{self.log()}")
            return self.request("GET", "/healthz")[0] == 200
        wait_for(up, timeout, what="hallcast /healthz")
        return self

    def request(self, method, path, body=None, headers=None, timeout=10):
        """Returns (status, headers, body bytes); never raises on HTTP errors."""
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        return status, (json.loads(data) if data else None)

    def stream(self, name):
        status, body = self.json("GET", f"/api/v1/streams/{name}")
        return body if status == 200 else None

    def wait_live(self, name, timeout=30):
        return wait_for(lambda: (s := self.stream(name)) and s["state"] == "live" and s,
                        timeout, what=f"stream {name} live")

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the daemon and returns its exit status (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self._log.close()


@pytest.fixture
def gateway_factory(tmp_path):
    started = []

    def make(streams=None, extra="", start=True, name="gw", **kw):
        gw = Gateway(tmp_path / f"{name}{len(started)}", streams=streams, extra=extra, **kw)
        started.append(gw)
        return gw.start() if start else gw

    yield make
    codes = [(gw, gw.stop()) for gw in started if gw.proc]
    for gw, rc in codes:
        # A crash is never fine, even in a test that passed otherwise; a test
        # may have killed the daemon on purpose (SIGKILL).
        assert rc in (0, -signal.SIGKILL), f"hallcast exited {rc}:\n{gw.log()[-4000:]}"


@pytest.fixture
def gateway(gateway_factory):
    return gateway_factory()
