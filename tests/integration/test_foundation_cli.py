"""The command line: --check-config names the file, group and key of a bad
value and exits 2; the shipped config is the documented default."""
import subprocess

import pytest

from conftest import BINARY, ROOT


def run(*args, timeout=30):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=timeout)


def check(tmp_path, text):
    path = tmp_path / "bad.conf"
    path.write_text(text)
    return path, run("--check-config", "--config", str(path))


@pytest.mark.parametrize("text, where, expected", [
    ("[gateway]\nhttp_port=80\nhttp_prot=81\n", ":3: [gateway] http_prot", "unknown key"),
    ("[gateway]\nhttp_port=eighty\n", ":2: [gateway] http_port", "expected an integer"),
    ("[gateway]\nhttp_port=70000\n", ":2: [gateway] http_port", "from 1 to 65535"),
    ("[gateway]\nlog_level=loud\n", ":2: [gateway] log_level", "error|warning|info|debug"),
    ("[hls]\nwindow=1\n", ":2: [hls] window", "from 3 to 100"),
    ("[hls]\nenabled=yes\n", ":2: [hls] enabled", "true or false"),
    ("[gatway]\n", ":1: [gatway]", "unknown group"),
    ("[stream cam]\n", ":1: [stream cam]", "missing required key 'url'"),
    ("[stream cam]\nurl=foo://x\n", "[stream cam] url", "scheme a plugin handles"),
    ("[stream cam]\nurl=test://?width=99999\n", "[stream cam] url", "width"),
    ("[stream bad/name]\nurl=test://\n", "[stream bad/name]", "name"),
    ("[gateway\n", "bad.conf", ""),
])
def test_bad_config_exits_2_naming_the_key(tmp_path, text, where, expected):
    path, r = check(tmp_path, text)
    assert r.returncode == 2, r
    lines = [line for line in r.stderr.splitlines() if line.startswith("hallcast: ")]
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0]
    assert where in lines[0] and expected in lines[0], lines[0]


def test_bad_config_also_stops_a_normal_start(tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("[gateway]\nhttp_port=0\n")
    r = run("--config", str(path))
    assert r.returncode == 2
    assert "[gateway] http_port" in r.stderr


def test_missing_config_file(tmp_path):
    r = run("--check-config", "--config", str(tmp_path / "nope.conf"))
    assert r.returncode == 2
    assert "nope.conf" in r.stderr


def test_good_config_and_embedded_defaults(tmp_path):
    path, r = check(tmp_path, "[gateway]\nhttp_port=9999\n[stream a]\nurl=test://?pattern=snow\n")
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout
    r = run("--check-config")
    assert r.returncode == 0 and "embedded defaults" in r.stdout


def test_shipped_config_is_the_documented_default():
    shipped = (ROOT / "config" / "hallcast.conf").read_text()
    r = run("--print-config")
    assert r.returncode == 0
    assert r.stdout == shipped, "config/hallcast.conf is out of date: regenerate with --print-config"
    assert run("--check-config", "--config", str(ROOT / "config" / "hallcast.conf")).returncode == 0


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("hallcast ")
    r = run("--help")
    assert r.returncode == 0
    for opt in ("--config", "--check-config", "--print-config", "--version"):
        assert opt in r.stdout
    r = run("--no-such-option")
    assert r.returncode == 2
