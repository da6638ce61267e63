"""HTTPS: `markbook serve --tls FILE` with a certificate from tools/make-cert. Passwords and
session cookies never cross the network in clear text, the cookie is marked Secure, and the
fingerprint tools/make-cert prints is the one students' browsers see."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import subprocess

import pytest

from server_client import ROOT, Server, corpus, make_course

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TLS 1.1 on purpose


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    pem = tmp / "markbook-tls.pem"
    made = subprocess.run([str(ROOT / "tools" / "make-cert"), str(pem), "localhost",
                           "127.0.0.1"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert oct(pem.stat().st_mode & 0o777) == "0o600"  # the private key is in it
    m = re.search(r"^\s+((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$", made.stdout, re.M)
    assert m, made.stdout
    srv = Server(make_course(tmp / "course"), tmp / "markbook.db", extra=["--tls", str(pem)])
    srv.tls = ssl.create_default_context(cafile=str(pem))
    srv.start()
    srv.add_user("ada")
    srv.fingerprint = m[1]
    yield srv
    srv.stop()


def test_tls_server_prints_https_addresses(tls_server):
    assert f"https://127.0.0.1:{tls_server.port}/" in tls_server.output
    assert "http://" not in tls_server.output


def test_tls_certificate_is_the_one_whose_fingerprint_the_teacher_reads_out(tls_server):
    ctx = ssl.create_default_context(cafile=None)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # as a browser before the student accepts it
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            der = s.getpeercert(binary_form=True)
            version = s.version()
    digest = hashlib.sha256(der).hexdigest().upper()
    assert ":".join(digest[i:i + 2] for i in range(0, 64, 2)) == tls_server.fingerprint
    assert version in ("TLSv1.2", "TLSv1.3")


def test_tls_refuses_tls_1_1(tls_server):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_tls_login_sets_a_secure_cookie_and_an_upload_is_graded(tls_server):
    c = tls_server.client()
    r = c.login("ada")
    assert r.status == 200, r.text
    cookie = r.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    r = c.upload("cp1-functions", corpus("correct.py"))
    assert r.status == 202, r.text
    assert c.wait_graded(r.json()["id"])["score"] == 10
    r = c.request("POST", "/api/logout")
    assert r.status == 200 and "; Secure" in r.headers["Set-Cookie"]


def test_tls_port_does_not_answer_plain_http(tls_server):
    """A password sent by mistake over http:// to the HTTPS port gets no HTTP answer."""
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as s:
        s.sendall(b'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'Content-Length: 44\r\n\r\n{"username": "ada", "password": "secret!!"}')
        s.settimeout(10)
        try:
            reply = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            reply = b""
    assert not reply.startswith(b"HTTP/1.1 200") and b"csrf_token" not in reply
    assert tls_server.client().get("/api/health").status == 200  # and it still serves
