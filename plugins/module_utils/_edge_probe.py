# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTPS request to a routed service through the edge, as a user's browser makes it.

The connection goes to the edge's address while the TLS server name, the
certificate check and the Host header are the service's domain: the domain
need not resolve on the controller (a lab, a fleet behind a split DNS). The
certificate is checked against the system's CAs and, when given, the fleet's
own CA as well, so that one check passes for Let's Encrypt and for the
fleet CA's certificates alike.

`ask` makes one request and raises ProbeError unless it was answered as
expected; `report` asks again (up to a number of attempts) and returns what
answered, or why nothing did, without raising for the answer itself: what a
deploy shows, where smoke.yml judges.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# What of the body is returned.
BODY_LIMIT = 4096


class ProbeError(Exception):
    """The request could not be made or was not answered as expected."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


@dataclass(frozen=True)
class Probe:
    address: str
    domain: str
    port: int = 443
    path: str = "/"
    status: tuple[int, ...] = (200,)
    ca_file: str | None = None
    system_cas: bool = True
    timeout: float = 10.0

    @property
    def url(self) -> str:
        port = "" if self.port == 443 else f":{self.port}"
        return f"https://{self.domain}{port}{self.path}"


def trust(probe: Probe) -> ssl.SSLContext:
    """A context trusting the system's CAs (unless told not to) and the fleet CA file (when given)."""
    if probe.ca_file:
        if not os.path.isfile(probe.ca_file):
            raise ProbeError(f"the fleet CA file {probe.ca_file} does not exist")
    elif not probe.system_cas:
        raise ProbeError("nothing to trust: no CA file, and the system's CAs turned off")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if not probe.system_cas:
        # create_default_context loaded them: start from an empty store instead.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if probe.ca_file:
        try:
            context.load_verify_locations(cafile=probe.ca_file)
        except (ssl.SSLError, OSError) as error:
            raise ProbeError(f"the fleet CA file {probe.ca_file} holds no usable certificate: {error}") from None
    return context


def trusted(probe: Probe) -> str:
    parts = (["the system's CAs"] if probe.system_cas else []) + ([probe.ca_file] if probe.ca_file else [])
    return " and ".join(parts)


def ask(probe: Probe, context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """The answer to GET probe.url sent to probe.address; ProbeError when it is not one of probe.status.

    context: what trust(probe) returns, made once by a caller that asks more than once.
    """
    context = context or trust(probe)
    where = f"{probe.url} (through {probe.address}:{probe.port})"
    started = time.monotonic()
    try:
        connection = socket.create_connection((probe.address, probe.port), timeout=probe.timeout)
    except OSError as error:
        raise ProbeError(f"{where}: cannot connect: {error.strerror or error}") from None
    try:
        try:
            tls = context.wrap_socket(connection, server_hostname=probe.domain)
        except ssl.SSLCertVerificationError as error:
            raise ProbeError(f"{where}: the edge's certificate is not trusted ({error.verify_message}); "
                             f"trusted: {trusted(probe)}") from None
        except (ssl.SSLError, OSError) as error:
            raise ProbeError(f"{where}: TLS handshake failed: {error}") from None
        request = http.client.HTTPSConnection(probe.domain, probe.port, timeout=probe.timeout, context=context)
        request.sock = tls
        try:
            request.request("GET", probe.path, headers={"Host": probe.domain, "User-Agent": "drover-smoke",
                                                        "Accept": "application/json, */*"})
            response = request.getresponse()
            body = response.read(BODY_LIMIT + 1)
        except (OSError, http.client.HTTPException) as error:
            raise ProbeError(f"{where}: no answer: {error}") from None
        finally:
            request.close()
    finally:
        connection.close()
    text = body[:BODY_LIMIT].decode("utf-8", "replace")
    result: dict[str, Any] = {
        "url": probe.url,
        "address": probe.address,
        "status": response.status,
        "reason": response.reason,
        "elapsed": round(time.monotonic() - started, 3),
        "body": text,
    }
    try:
        result["json"] = json.loads(body)
    except ValueError:
        pass
    if response.status not in probe.status:
        expected = ", ".join(str(status) for status in probe.status)
        raise ProbeError(f"{where} answered {response.status} {response.reason}, expected {expected}", result)
    return result


def report(
    probe: Probe,
    attempts: int = 1,
    delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    once: Callable[[Probe, ssl.SSLContext], dict[str, Any]] = ask,
) -> dict[str, Any]:
    """What probe.url answered, asked up to `attempts` times (`delay` seconds apart) until one of probe.status.

    Never raises for the answer: a wrong status or no answer at all is in the
    result, with `error` saying why (empty when the answer was one of
    probe.status) and `attempts` how many requests were sent. A CA file that
    is not there or not usable is the caller's mistake, not an answer: it
    raises ProbeError before anything is asked.
    """
    context = trust(probe)
    tries = max(1, attempts)
    for attempt in range(1, tries + 1):
        try:
            result = {**once(probe, context), "error": ""}
        except ProbeError as error:
            result = {"url": probe.url, "address": probe.address, **error.result, "error": str(error)}
        result["attempts"] = attempt
        if not result["error"]:
            break
        if attempt < tries:
            sleep(delay)
    return result
