"""tools/wsload (hc-wsload) against the real daemon, so the benchmark's load
generator cannot rot: 200 clients connect through the HTTP upgrade, join one
session, five of them ask, and every client gets every question. An
independent Python websockets client in the same session checks that the
questions really went through the gateway. Correctness only: the latency
figures belong to tools/bench-ws."""
import asyncio
import json
import subprocess

from conftest import BUILD
from interact_client import Client, open_session

WSLOAD = BUILD / "tools" / "wsload" / "hc-wsload"
CLIENTS, QUESTIONS = 200, 5


def test_wsload_clients_all_receive_every_question(gateway_factory):
    gw = gateway_factory(streams={}, log_level="info",
                         extra="[interact]\nmax_site_connections=1000\n")

    async def scenario():
        await open_session(gw, "wsload-test")
        watcher = await Client.open(gw, "school:watcher:Room", ping_interval=None)
        await watcher.call("session.join", session="wsload-test")
        proc = await asyncio.create_subprocess_exec(
            str(WSLOAD), "--port", str(gw.port), "--clients", str(CLIENTS), "--questions",
            str(QUESTIONS), "--askers", "5", "--sites", "20", "--session", "wsload-test",
            "--rate", "2000", "--settle-ms", "300", "--pid", str(gw.proc.pid), "--timeout", "60",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 90)
        asked = set()
        for _ in range(1000):
            if len(asked) == QUESTIONS:
                break
            m = await watcher.recv()
            if m.get("type") == "qa.asked":
                asked.add(m["question"]["text"])
        await watcher.close()
        return proc.returncode, json.loads(out), err.decode(), asked

    rc, report, err, asked = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert rc == 0, err
    assert report["connected"] == CLIENTS, (report, err)
    assert report["errors"] == 0 and report["closed"] == 0, (report, err)
    assert report["expected"] == CLIENTS * QUESTIONS
    assert report["delivered"] == report["expected"], (report, err)
    assert report["unmatched"] == 0
    assert 0 <= report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["gw_rss_kib"] > 0  # the gateway's /proc was read
    assert asked == {f"wsload q {k}" for k in range(QUESTIONS)}
