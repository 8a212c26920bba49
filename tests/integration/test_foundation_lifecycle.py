"""Signals: SIGTERM and SIGINT stop the daemon cleanly, exit 0, within 5 s."""
import signal
import subprocess

import pytest

from conftest import wait_for


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_0_within_5s(gateway_factory, sig):
    gw = gateway_factory()
    gw.wait_live("demo")
    wait_for(lambda: list((gw.data_dir / "hls" / "demo").glob("*.ts")), 20, what="a segment")
    gw.proc.send_signal(sig)
    try:
        rc = gw.proc.wait(5)
    except subprocess.TimeoutExpired:
        gw.proc.kill()
        raise AssertionError("hallcast did not stop within 5 s")
    assert rc == 0, gw.log()[-3000:]
    log = gw.log()
    assert "shutting down" in log and "stopped" in log
    assert "CRITICAL" not in log


def test_port_in_use_is_a_clear_error(gateway_factory):
    first = gateway_factory(streams={})
    second = gateway_factory(streams={}, start=False)
    text = second.config.read_text().replace(f"http_port={second.port}", f"http_port={first.port}")
    second.config.write_text(text)
    r = subprocess.run([str(__import__("conftest").BINARY), "--config", str(second.config)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert f"cannot listen for HTTP on 127.0.0.1:{first.port}" in r.stderr
