#!/usr/bin/env python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A load loop through the edge, for the zero-downtime checks.

Sends GET requests to https://ADDRESS/ with the Host (and SNI) of DOMAIN,
verifying the edge's certificate against CA, from a few threads, until the
file STOP exists and at least MIN requests were sent (or MAX_SECONDS
passed). A request fails when it raises, times out, or answers other than
200. Prints one JSON line: requests, failures, the first failures, and how
many answers came from each version and host.

  https_load.py --address 198.18.0.11 --domain demo.lab.drover.test --ca ca.crt --stop /tmp/stop --min 1000

ADDRESS may list several edge addresses, comma-separated, as a name with
several A records does: each request starts at the next one in turn and goes
to the following one only when its connection is refused (nothing was sent
yet, as a client does with the next A record); any other error fails the
request. The JSON line counts those moves (refused_moves).

With --once, one request: its JSON answer is printed, and the exit status
says whether it came (1 with the reason on stderr when not). Without --ca,
the system's CAs are trusted.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
from typing import Any


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.failures = 0
        self.first_failures: list[str] = []
        self.versions: collections.Counter[str] = collections.Counter()
        self.hosts: collections.Counter[str] = collections.Counter()

    def ok(self, body: dict[str, Any]) -> None:
        with self.lock:
            self.requests += 1
            self.versions[str(body.get("version"))] += 1
            self.hosts[str(body.get("host"))] += 1

    def failed(self, why: str) -> None:
        with self.lock:
            self.requests += 1
            self.failures += 1
            if len(self.first_failures) < 10:
                self.first_failures.append(f"{time.strftime('%H:%M:%S')} {why}")


def connect(addresses: list[str], timeout: float, first: int = 0) -> tuple[str, socket.socket, int]:
    """A connection to the first address, from FIRST on, that does not refuse it; and how many refused."""
    refused: list[str] = []
    for index in range(len(addresses)):
        address = addresses[(first + index) % len(addresses)]
        try:
            return address, socket.create_connection((address, 443), timeout=timeout), len(refused)
        except ConnectionRefusedError:
            refused.append(address)
    raise ConnectionRefusedError(f"every edge address refused the connection: {', '.join(refused)}")


def one_request(address: str, domain: str, context: ssl.SSLContext, timeout: float,
                first: int = 0, moves: list[int] | None = None) -> dict[str, Any]:
    # A fresh connection each time, as many clients behave, so every request
    # is routed anew by the edge.
    chosen, sock, refused = connect(address.split(","), timeout, first)
    if moves is not None:
        moves.append(refused)
    connection = http.client.HTTPSConnection(chosen, 443, timeout=timeout, context=context)
    try:
        connection.sock = context.wrap_socket(sock, server_hostname=domain)
        connection.request("GET", "/", headers={"Host": domain, "Connection": "close"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:120]!r}")
        return json.loads(data)
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--ca", help="the CA file to verify the edge with (default: the system's)")
    parser.add_argument("--once", action="store_true", help="one request; print its answer")
    parser.add_argument("--stop", help="stop once this file exists (and --min requests were sent)")
    parser.add_argument("--min", type=int, default=1000)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=5)
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca)
    if args.once:
        try:
            print(json.dumps(one_request(args.address, args.domain, context, args.timeout)))
        except Exception as error:  # noqa: BLE001 - any failure is the answer
            print(f"https://{args.domain}/ via {args.address}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        return 0
    if not args.stop:
        parser.error("--stop is needed for a load loop")
    counter = Counter()
    started = time.monotonic()
    moves: list[int] = []
    turn = iter(range(1 << 62))

    def done() -> bool:
        if time.monotonic() - started > args.max_seconds:
            return True
        return os.path.exists(args.stop) and counter.requests >= args.min

    def worker() -> None:
        while not done():
            try:
                counter.ok(one_request(args.address, args.domain, context, args.timeout, next(turn), moves))
            except Exception as error:  # noqa: BLE001 - every way a request can fail counts as a failure
                counter.failed(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=worker, daemon=True) for _index in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({
        "requests": counter.requests,
        "failures": counter.failures,
        "first_failures": counter.first_failures,
        "versions": dict(counter.versions),
        "hosts": dict(counter.hosts),
        "refused_moves": sum(moves),
        "seconds": round(time.monotonic() - started, 1),
        "timed_out": time.monotonic() - started > args.max_seconds,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
