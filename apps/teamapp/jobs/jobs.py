"""teamapp's jobs: every JOBS_INTERVAL seconds, touch the heartbeat file."""

from __future__ import annotations

import os
import time
from pathlib import Path

heartbeat = Path(os.environ.get("JOBS_HEARTBEAT", "/var/lib/teamapp/heartbeat"))
interval = float(os.environ.get("JOBS_INTERVAL", "5"))
heartbeat.parent.mkdir(parents=True, exist_ok=True)
while True:
    heartbeat.touch()
    print("heartbeat", time.strftime("%H:%M:%S"), flush=True)
    time.sleep(interval)
