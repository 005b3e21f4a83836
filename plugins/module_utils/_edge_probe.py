# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask a routed service through the edge, as a browser would: HTTPS to the edge's address with the service's
name as SNI and Host, the certificate checked against the system's CAs plus the fleet's own CA.

The edge may be reached at an address no DNS name points to yet (the lab, a fleet before its DNS is set),
so the connection goes to `address` while TLS and HTTP speak for `domain`.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

BODY_LIMIT = 2048


@dataclass
class Answer:
    service: str
    domain: str
    url: str
    status: int = 0
    reason: str = ""
    body: str = ""
    seconds: float = 0.0
    error: str = ""
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's CAs, and the fleet's CA file when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def ask_once(address: str, port: int, domain: str, path: str, context: ssl.SSLContext,
             timeout: float) -> tuple[int, str, str]:
    """(status, reason, the start of the body) of one GET; raises OSError or ssl.SSLError when it fails."""
    raw = socket.create_connection((address, port), timeout=timeout)
    try:
        wrapped = context.wrap_socket(raw, server_hostname=domain)
    except Exception:
        raw.close()
        raise
    connection = http.client.HTTPSConnection(domain, port, timeout=timeout, context=context)
    connection.sock = wrapped
    try:
        connection.request("GET", path, headers={"Host": domain, "User-Agent": "drover-edge-probe"})
        response = connection.getresponse()
        body = response.read(BODY_LIMIT).decode("utf-8", errors="replace")
        return response.status, response.reason, body
    finally:
        connection.close()


def ask(
    service: str,
    domain: str,
    address: str,
    port: int = 443,
    path: str = "/",
    ca_file: str | None = None,
    timeout: float = 5.0,
    attempts: int = 1,
    delay: float = 2.0,
    expect: int = 200,
    sleep: Callable[[float], None] = time.sleep,
    once: Callable[..., tuple[int, str, str]] = ask_once,
) -> Answer:
    """The service's answer; asked again (up to `attempts`) while it does not answer `expect`."""
    answer = Answer(service=service, domain=domain, url=f"https://{domain}{'' if port == 443 else f':{port}'}{path}")
    context = tls_context(ca_file)
    for attempt in range(1, max(1, attempts) + 1):
        answer.attempts = attempt
        began = time.monotonic()
        try:
            answer.status, answer.reason, answer.body = once(address, port, domain, path, context, timeout)
            answer.error = ""
        except (OSError, ssl.SSLError, http.client.HTTPException) as error:
            answer.status, answer.reason, answer.body = 0, "", ""
            answer.error = str(error) or type(error).__name__
        answer.seconds = round(time.monotonic() - began, 3)
        if answer.status == expect:
            break
        if attempt < attempts:
            sleep(delay)
    return answer
