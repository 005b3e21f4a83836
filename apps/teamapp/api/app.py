"""teamapp's API: answers every GET with what it is, which version, and where it runs."""

from __future__ import annotations

import json
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOKEN_FILE = Path("/run/secrets/api_token")


def _heartbeat_age() -> float | None:
    try:
        return round(time.time() - Path(os.environ.get("JOBS_HEARTBEAT", "")).stat().st_mtime, 1)
    except OSError:
        return None


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        body = json.dumps({
            "app": "teamapp",
            "service": "api",
            "version": os.environ.get("APP_VERSION", "dev"),
            "host": socket.gethostname(),
            "greeting": os.environ.get("GREETING", ""),
            "token_set": TOKEN_FILE.is_file() and bool(TOKEN_FILE.read_text().strip()),
            "jobs_heartbeat_age": _heartbeat_age(),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        print(f"{self.address_string()} {format % args}", flush=True)


if __name__ == "__main__":
    ThreadingHTTPServer(("", 8080), Handler).serve_forever()
