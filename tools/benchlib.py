"""Shared pieces of hallcast's benchmark scripts (tools/bench-*): run inside a
private network namespace, describe the machine, start hallcast with a
generated config, pin processes to CPUs, read /proc, and replace a marked
section of docs/BENCHMARKS.md. Benchmarks are not tests: nothing here asserts."""
import datetime
import json
import os
import pathlib
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"


def reexec_in_netns():
    """Re-runs this script under tools/netns-run unless already inside (or
    HC_BENCH_NO_NETNS=1). The namespace has loopback and 198.18.0.1 only."""
    if os.environ.get("HC_IN_NETNS") == "1" or os.environ.get("HC_BENCH_NO_NETNS") == "1":
        return
    os.execv(str(ROOT / "tools" / "netns-run"),
             [str(ROOT / "tools" / "netns-run"), "/usr/bin/python3", *sys.argv])


def loopback_rps(cpu):
    """Receive Packet Steering on this namespace's loopback: the kernel's
    receive work for what is sent over lo runs on `cpu` (the receiver's, as
    on a real network) instead of the sender's. Only inside the bench's own
    network namespace (the setting belongs to its lo); sysfs shows a
    namespace's devices only when mounted from it, hence a private mount
    namespace for the write."""
    if os.environ.get("HC_IN_NETNS") != "1":
        sys.exit("loopback RPS is set only inside the bench's private network namespace")
    mask = format(1 << cpu, "x")
    subprocess.run(["unshare", "-m", "sh", "-c",
                    "mount -t sysfs sysfs /sys && "
                    f"echo {mask} > /sys/class/net/lo/queues/rx-0/rps_cpus && "
                    "cat /sys/class/net/lo/queues/rx-0/rps_cpus"],
                   check=True, capture_output=True, text=True)


def build_dir():
    return pathlib.Path(os.environ.get("HC_BUILD_DIR", ROOT / "build"))


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpus():
    """(gateway CPU, load-generator CPU): the last two CPUs we may use."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) >= 2:
        return allowed[-2], allowed[-1]
    return allowed[0], allowed[0]


def taskset(cpu):
    return ["taskset", "-c", str(cpu)]


def machine():
    """A one-paragraph description of the machine and its state right now."""
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024 // 1024} GiB"
    except OSError:
        pass
    return (f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs ({model}), "
            f"{mem}, Linux {platform.release()}, load average {load[0]:.2f} {load[1]:.2f} "
            f"{load[2]:.2f} at start (shared with other work: absolute figures are noisy)")


def build_info():
    """Which hallcast was measured: the commit, whether the tree had changes,
    and which libsrtp the build links."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                "gateway", "plugins"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except OSError:
        rev, dirty = "?", ""
    srtp = sorted(p.name for p in (build_dir() / "subprojects").glob("libsrtp2*") if p.is_dir())
    binary = build_dir() / "gateway" / "hallcast"
    built = (datetime.datetime.utcfromtimestamp(binary.stat().st_mtime).strftime("%H:%M UTC")
             if binary.exists() else "?")
    return (f"hallcast binary built {built}, tree at {rev}"
            f"{' with uncommitted gateway changes' if dirty else ''}, "
            f"SRTP: {'libsrtp2 built on OpenSSL 3 (subprojects ' + ', '.join(srtp) + ')' if srtp else 'Debian libsrtp2'}")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def core_busy_seconds(cpu):
    """Busy time of one CPU from /proc/stat (user, nice, system, irq,
    softirq, steal): every task's and the kernel's, ksoftirqd included."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:9]]
                return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def thread_schedstat(pid, comm):
    """(ns on a CPU, ns runnable but waiting for one) of pid's thread named
    comm, from /proc/PID/task/TID/schedstat; None if there is none."""
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == comm:
                run, wait = (task / "schedstat").read_text().split()[:2]
                return int(run), int(wait)
        except OSError:
            continue
    return None


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class Hallcast:
    """hallcast on 127.0.0.1 with a generated config (streams: name -> URL)."""

    def __init__(self, workdir, streams=None, extra="", cpu=None, log_level="warning"):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.data_dir = self.dir / "var"
        text = (f"[gateway]\nhttp_address=127.0.0.1\nhttp_port={self.port}\n"
                f"data_dir={self.data_dir}\nlog_level={log_level}\n")
        for name, url in (streams or {}).items():
            text += f"\n[stream {name}]\nurl={url}\n"
        (self.dir / "hallcast.conf").write_text(text + "\n" + extra)
        self.cpu = cpu
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        cmd = [str(build_dir() / "gateway" / "hallcast"), "--config",
               str(self.dir / "hallcast.conf")]
        if self.cpu is not None:
            cmd = taskset(self.cpu) + cmd
        self.log = open(self.dir / "hallcast.log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hallcast exited {self.proc.returncode}, see {self.dir}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("hallcast did not start")

    def get_json(self, path):
        with urllib.request.urlopen(self.base + path, timeout=5) as r:
            return json.loads(r.read())

    def wait_live(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get_json(f"/api/v1/streams/{name}")["state"] == "live":
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"stream {name} not live")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()


def replace_section(name, text, doc=DOC):
    """Puts text between <!-- NAME:begin --> and <!-- NAME:end --> in the
    benchmarks document, appending the markers when they are missing."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    body = doc.read_text() if doc.exists() else "# hallcast benchmarks\n"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in body and end in body:
        head, rest = body.split(begin, 1)
        body = head + block + rest.split(end, 1)[1]
    else:
        body = body.rstrip() + "\n\n" + block + "\n"
    doc.write_text(body)


def median(values):
    v = sorted(values)
    if not v:
        return float("nan")
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2
