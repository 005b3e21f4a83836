# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the unit tests share: a module's main() run as Ansible runs it, what it warns, an HTTPS edge."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import ssl
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class RunMain(Protocol):
    def __call__(self, main: Callable[[], None], args: dict[str, Any], printed: bool = False) -> dict[str, Any]: ...


@pytest.fixture
def run_main(capsys: pytest.CaptureFixture[str]) -> RunMain:
    """A module's main() with args: the JSON it prints, with failed set when it called fail_json.

    The exit code must agree with `failed`; printed=True keeps the printed
    text under `_printed`, for tests that look for what must never show.
    """

    def run(main: Callable[[], None], args: dict[str, Any], printed: bool = False) -> dict[str, Any]:
        with patch_module_args(args), pytest.raises(SystemExit) as leaving:
            main()
        out = capsys.readouterr().out
        result = json.loads(out)
        if printed:
            result["_printed"] = out
        assert (leaving.value.code != 0) == bool(result.get("failed"))
        return result

    return run


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the module warns about, as it calls module.warn().

    Where a warning ends up depends on what was imported into this process
    before; what the module warns is what matters to a test.
    """
    seen: list[str] = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda _module, warning: seen.append(warning))
    return seen


@pytest.fixture
def microk8s(tmp_path: Path) -> str:
    """A stand-in for /snap/bin/microk8s, so the module finds an executable there."""
    path = tmp_path / "microk8s"
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
                ca: bool, names: Sequence[str] = ()) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(value: x509.Certificate) -> bytes:
    return value.public_bytes(serialization.Encoding.PEM)


@contextlib.contextmanager
def serving(folder: Path, domains: Sequence[str]) -> Iterator[dict[str, Any]]:
    """An HTTPS server on 127.0.0.1 for DOMAINS: / and /healthz answer JSON 200, the rest 404.

    In FOLDER: ca.crt (the CA that issued its certificate), other-ca.crt (a CA
    that did not) and not-a-ca.crt (no certificate at all).
    """
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("probe test CA", ca_key, None, ca=True)
    server_cert = certificate(domains[0], server_key, ("probe test CA", ca_key), ca=False, names=domains)
    other_key = ec.generate_private_key(ec.SECP256R1())
    (folder / "ca.crt").write_bytes(pem(ca_cert))
    (folder / "other-ca.crt").write_bytes(pem(certificate("another test CA", other_key, None, ca=True)))
    (folder / "server.pem").write_bytes(pem(server_cert) + server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / "not-a-ca.crt").write_text("nothing here\n")
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            seen.append(self.headers["Host"])
            code = 200 if self.path in ("/", "/healthz") else 404
            body = json.dumps({"app": "demo", "version": "1.4.2", "path": self.path}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"port": server.server_address[1], "ca": str(folder / "ca.crt"), "folder": folder, "hosts": seen}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def https_edge() -> Callable[[Path, Sequence[str]], contextlib.AbstractContextManager[dict[str, Any]]]:
    """serving(folder, domains): an HTTPS edge on this machine with a CA of its own (edge_probe's tests)."""
    return serving
