# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the end-to-end tests find the project's commands: one place to change a path."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Playbooks and tools, relative to the project root (tools/awx-job wants them so).
LAB_PLAYBOOK = "playbooks/lab.yml"
SITE_PLAYBOOK = "site.yml"
DEPLOY_PLAYBOOK = "playbooks/deploy.yml"
PROMOTE_PLAYBOOK = "playbooks/promote.yml"
ROLLBACK_PLAYBOOK = "playbooks/rollback.yml"
SMOKE_PLAYBOOK = "playbooks/smoke.yml"
# make's stamp of the controller venv (the Makefile's $(VENV)/.controller).
VENV_STAMP = ".venv/.controller"
AWX_JOB = "tools/awx-job"
LOAD_LOOP = "tests/load/https_load.py"
# The Jenkinsfile's deployment steps, which the pipeline test runs.
PIPELINE_STEPS = "tests/e2e/pipeline-steps.yml"

# The lab role's defaults (its host list and network) and the lab inventory's group_vars.
LAB_DEFAULTS = "roles/lab/defaults/main.yml"
LAB_GROUP_VARS = "inventories/lab/group_vars"

# On the first swarm manager: the stack role's release ledgers and deploy locks.
LEDGER_DIR = "/var/lib/drover/releases"
LOCK_DIR = "/var/lib/drover/locks"

# Environment variables that choose the lab (see conftest.py).
ENV_INVENTORY = "DROVER_E2E_INVENTORY"
ENV_NETWORK = "DROVER_E2E_NETWORK"
ENV_SUBNET = "DROVER_E2E_SUBNET"
ENV_KEEP = "DROVER_E2E_KEEP"
DEFAULT_NETWORK = "drover-e2e"
DEFAULT_SUBNET = "198.18.3.0/24"
