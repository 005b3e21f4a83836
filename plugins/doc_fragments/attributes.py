# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # What check mode, diff mode and idempotence mean for this collection's
    # modules; each module then says how far it supports them.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Runs in check mode, predicting the change without making it.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
  idempotent:
    description:
      - Run twice in a row with the same arguments, the second run reports no change.
"""

    # For modules that only read.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
"""

    # For modules that set facts (with READ_ONLY when they only read).
    FACTS = r"""
options: {}
attributes:
  facts:
    description: Sets facts about the host.
    support: full
"""
