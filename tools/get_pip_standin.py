# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test runs ``~/.ansible/test/cache/get_pip_<version>.py`` as __main__
with pip's install arguments in sys.argv[1:] to put pip into each fresh
sanity venv. This does the same from the interpreter's own ensurepip, then
lets that pip install what was asked (from the configured package indexes).
"""

from __future__ import annotations

import subprocess
import sys

_DROPPED = frozenset({"--no-setuptools", "--no-wheel"})  # get-pip.py flags pip install does not know


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    install = [arg for arg in argv if arg not in _DROPPED]
    return subprocess.run([sys.executable, "-m", "pip", "install", *install], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
