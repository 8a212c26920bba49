"""REST validation, static files and path traversal against the real daemon."""
import os
import socket

import pytest

from conftest import ROOT


def raw_get(gw, path):
    """Sends the path byte for byte (no client-side normalisation); returns (status, body)."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_healthz(gateway_factory):
    gw = gateway_factory(streams={})
    status, body = gw.json("GET", "/healthz")
    assert status == 200 and body["status"] == "ok" and body["streams"] == 0


def test_web_client_and_hls_js_are_served(gateway_factory):
    gw = gateway_factory(streams={})
    status, headers, body = gw.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<title>hallcast</title>" in body
    status, headers, body = gw.request("GET", "/node_modules/hls.js/dist/hls.mjs")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert gw.request("GET", "/js/index.js")[0] == 200
    assert gw.request("GET", "/no-such-file.html")[0] == 404


@pytest.mark.parametrize("body, status, code, field", [
    (b"not json", 400, "invalid_argument", None),
    ({"name": "x"}, 400, "invalid_argument", "url"),
    ({"url": "test://"}, 400, "invalid_argument", "name"),
    ({"name": 5, "url": "test://"}, 400, "invalid_argument", "name"),
    ({"name": "bad/name", "url": "test://"}, 400, "invalid_argument", "name"),
    ({"name": "x" * 65, "url": "test://"}, 400, "invalid_argument", "name"),
    ({"name": "ok", "url": "nothing"}, 400, "invalid_argument", "url"),
    ({"name": "ok", "url": "foo://bar"}, 400, "unsupported", "url"),
    ({"name": "ok", "url": "test://?width=5"}, 400, "invalid_argument", "url"),
    ({"name": "ok", "url": "test://", "extra": 1}, 400, "invalid_argument", "extra"),
    ([1, 2], 400, "invalid_argument", None),
])
def test_create_stream_validation(gateway_factory, body, status, code, field):
    gw = gateway_factory(streams={})
    headers = {"Content-Type": "application/json"}
    got, answer = gw.json("POST", "/api/v1/streams", body, headers)
    assert got == status
    assert answer["error"]["code"] == code
    assert answer["error"].get("field") == field
    assert answer["error"]["message"]
    assert gw.json("GET", "/api/v1/streams")[1]["streams"] == []


def test_duplicate_unknown_and_methods(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=160&height=120&bitrate=100&fps=10"})
    status, body = gw.json("POST", "/api/v1/streams", {"name": "demo", "url": "test://"})
    assert status == 409 and body["error"]["code"] == "already_exists"
    status, body = gw.json("DELETE", "/api/v1/streams/nope")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = gw.json("PUT", "/api/v1/streams", {"a": 1})
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    status, body = gw.json("POST", "/healthz", {"a": 1})
    assert status == 405
    status, headers, _ = gw.request("OPTIONS", "/api/v1/streams")
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in headers["Access-Control-Allow-Headers"]


def test_body_over_the_limit_is_refused(gateway_factory):
    gw = gateway_factory(streams={}, gateway_keys={"max_body": 2048})
    status, body = gw.json("POST", "/api/v1/streams",
                           {"name": "big", "url": "test://?" + "a" * 5000})
    assert status == 413 and body["error"]["code"] == "too_large"
    assert gw.json("GET", "/api/v1/streams")[1]["streams"] == []


def test_stream_limit(gateway_factory):
    gw = gateway_factory(streams={}, gateway_keys={"max_streams": 1})
    small = "test://?width=160&height=120&bitrate=100&fps=10&audio=false"
    assert gw.json("POST", "/api/v1/streams", {"name": "a", "url": small})[0] == 201
    status, body = gw.json("POST", "/api/v1/streams", {"name": "b", "url": small})
    assert status == 503 and body["error"]["code"] == "limit_reached"


TRAVERSALS = [
    "/../../../../etc/passwd",
    "/hls/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/hls/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/.%2e/.%2e/.%2e/etc/passwd",
    "/..%2f..%2f..%2fetc/passwd",
    "/hls/..%2f..%2f..%2f..%2fetc/passwd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..\\..\\..\\etc\\passwd",
    "//etc/passwd",
    "/hls//etc/passwd",
    "/etc/passwd",
    "/hls/out/passwd",
    "/web-out/passwd",
    "/hls/%00/../x",
]


def test_path_traversal_is_404(gateway_factory, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<title>test root</title>")
    os.symlink("/etc", web / "web-out")
    gw = gateway_factory(streams={}, gateway_keys={"web_root": str(web)})
    os.symlink("/etc", gw.data_dir / "hls" / "out")
    assert raw_get(gw, "/")[0] == 200
    for path in TRAVERSALS:
        status, body = raw_get(gw, path)
        assert status in (400, 404), (path, status)
        assert b"root:" not in body, path


def test_served_tree_still_reaches_its_own_files(gateway_factory, tmp_path):
    web = tmp_path / "web"
    (web / "sub").mkdir(parents=True)
    (web / "index.html").write_text("top")
    (web / "sub" / "page.html").write_text("inner")
    os.symlink("sub/page.html", web / "alias.html")  # a relative link that stays inside is fine
    gw = gateway_factory(streams={}, gateway_keys={"web_root": str(web)})
    assert raw_get(gw, "/sub/./page.html") == (200, b"inner")
    assert raw_get(gw, "/sub/page%2Ehtml") == (200, b"inner")
    assert raw_get(gw, "/alias.html") == (200, b"inner")
    assert raw_get(gw, "/sub/")[0] == 404  # no index.html there, no listing
    os.symlink(web / "sub" / "page.html", web / "absolute.html")
    assert raw_get(gw, "/absolute.html")[0] == 404  # absolute links are never followed


def test_metrics_exposes_stream_health(gateway):
    gateway.wait_live("demo")

    def sample():
        status, headers, body = gateway.request("GET", "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    from conftest import wait_for
    values = wait_for(lambda: (v := sample()) and
                      v.get('hallcast_track_bitrate_bits{stream="demo",track="video",codec="H264"}',
                            0) > 0 and v, 20, what="a video bitrate in /metrics")
    assert values["hallcast_streams"] == 1
    assert values['hallcast_stream_state{stream="demo",state="live"}'] == 1
    assert values['hallcast_stream_state{stream="demo",state="error"}'] == 0
    assert values['hallcast_track_bitrate_bits{stream="demo",track="audio",codec="AAC"}'] > 0


def test_connections_that_never_finish_a_request_do_no_harm(gateway_factory):
    gw = gateway_factory(streams={})
    for payload in (b"", b"GET", b"\x00\xff" * 64, b"NOT-HTTP garbage\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\nshort"):
        with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
            s.sendall(payload)
        # The daemon is still up and answering after every one of them.
        assert gw.json("GET", "/healthz")[0] == 200
    assert gw.proc.poll() is None


def test_a_stream_may_be_named_like_a_sub_resource(gateway_factory):
    small = "test://?width=160&height=120&bitrate=100&fps=10&audio=false"
    gw = gateway_factory(streams={"viewers": small, "switch": small})
    for name in ("viewers", "switch"):
        status, body = gw.json("GET", f"/api/v1/streams/{name}")
        assert status == 200 and body["name"] == name
    status, body = gw.json("GET", "/api/v1/streams/viewers/viewers")
    assert status == 200 and body["viewers"] == []
    assert gw.json("GET", "/api/v1/streams/viewers/nope")[0] == 404
    assert gw.json("GET", "/api/v1/streams/nope/viewers")[0] == 404
    assert gw.json("POST", "/api/v1/streams/viewers/viewers", {})[0] == 405
    assert gw.json("DELETE", "/api/v1/streams/switch")[0] == 204
    assert gw.json("GET", "/api/v1/streams/switch")[0] == 404
