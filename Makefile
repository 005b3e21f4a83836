# drover.platform — the two commands a newcomer runs:
#   make demo   bring the lab up and run site.yml on it
#   make test   unit tests, lint, sanity, then the Molecule scenarios
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0

SCENARIOS ?= $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))

.PHONY: help demo test bench molecule-lab fleets e2e venv venv-test engine lab-up lab-down unit lint sanity ee lab-checks arm64 molecule clean

help:
	@echo "make demo      lab up + ansible-playbook site.yml -i inventories/lab"
	@echo "make test      unit tests, yamllint, ansible-lint, ansible-test sanity, Molecule"
	@echo "make lab-up    bring the lab up          make lab-down   tear it down"
	@echo "make arm64     the host role's package step in an arm64 container (qemu-user)"
	@echo "make fleets    teamapp on preprod and prod fleets of their own (not in make test)"
	@echo "make bench     converge figures against their floors, as ratios (lab hosts of its own)"

$(VENV)/.controller: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test: $(VENV)/.controller requirements-test.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.controller
venv-test: $(VENV)/.test

engine:
	tools/ensure-engine
	tools/ensure-apt-cache

lab-up: venv engine
	ansible-playbook playbooks/lab.yml -e lab_state=up

lab-down: venv engine
	ansible-playbook playbooks/lab.yml -e lab_state=down

demo: lab-up
	ansible-playbook site.yml -i inventories/lab

unit: venv-test
	pytest -q

lint: venv-test
	ruff check plugins tests tools tests/bench/converge
	yamllint --strict .
	ansible-lint --offline --profile production
	python tools/role_docs.py --check

sanity: venv-test
	tools/sanity

# The AWX execution environment's build context (ansible-builder create);
# building the image itself needs its base image, which no registry here serves.
ee: venv-test
	tools/ee-context

# Lab checks run the real playbooks against the real engine, no hosts kept.
lab-checks: venv-test engine
	pytest -q --durations=10 tests/lab

# The host role's package step on arm64 Debian, in a container under qemu-user.
arm64: venv engine
	tools/arm64-check

# A scenario with an executable `available` runs only when it exits 0;
# otherwise the one line it prints says why the scenario is skipped.
# Scenarios in ON_LAB need no hosts of their own: they run on the lab
# scenario's hosts (molecule-lab), and `molecule test -s NAME` still runs
# each alone. Those in BESIDE_LAB have hosts on a network of their own and
# run beside the lab scenario, started once its hosts are up.
ON_LAB := host swarm
BESIDE_LAB := swarm-ha

molecule: venv-test engine
	for scenario in $(SCENARIOS); do \
	  if [ -x molecule/$$scenario/available ] && ! why=$$(molecule/$$scenario/available); then \
	    echo "molecule $$scenario: skipped: $$why"; continue; \
	  fi; \
	  case " $(ON_LAB) $(BESIDE_LAB) " in *" $$scenario "*) \
	    echo "molecule $$scenario: runs with the lab scenario (make molecule-lab)"; continue;; esac; \
	  if [ "$$scenario" = lab ]; then $(MAKE) --no-print-directory molecule-lab; continue; fi; \
	  molecule test -s $$scenario; \
	done

# The lab scenario, one set of lab hosts for several suites: Molecule's
# create; the host scenario's prepare; the lab's converge and idempotence
# (site.yml with the host scenario's extras, linked into both scenarios'
# inventories, so the hosts are provisioned once); the host scenario's
# --check --diff and verify on those hosts; the end-to-end tests
# (tests/e2e), the swarm scenario's swarm_stack lifecycle, the lab's
# verify; destroy whatever happened. The BESIDE_LAB scenarios run
# meanwhile; their output is shown when they end, and their status counts.
molecule-lab: venv-test engine
	molecule destroy -s host
	molecule destroy -s lab
	molecule create -s lab
	beside=$$(mktemp -d); trap 'rm -rf "$$beside"' EXIT; \
	for scenario in $(BESIDE_LAB); do \
	  { status=0; molecule test -s $$scenario >"$$beside/$$scenario.log" 2>&1 || status=$$?; \
	    echo $$status >"$$beside/$$scenario.done"; } & \
	done; \
	status=0; \
	{ molecule prepare -s host \
	  && molecule converge -s lab \
	  && molecule idempotence -s lab \
	  && molecule side-effect -s host \
	  && molecule verify -s host \
	  && DROVER_E2E_INVENTORY=$(CURDIR)/inventories/lab pytest -q -p no:cacheprovider --durations=0 -m 'not slow' tests/e2e \
	  && ansible-playbook -i inventories/lab molecule/swarm/stack.yml \
	  && molecule verify -s lab; } || status=$$?; \
	molecule destroy -s host; molecule destroy -s lab; \
	wait; \
	for scenario in $(BESIDE_LAB); do \
	  cat "$$beside/$$scenario.log"; read -r done <"$$beside/$$scenario.done"; \
	  if [ "$$done" -eq 0 ]; then echo "molecule $$scenario: passed (beside the lab scenario)"; \
	  else echo "molecule $$scenario: FAILED (exit $$done, beside the lab scenario)"; status=1; fi; \
	done; \
	exit $$status

# In this order, each stage's time printed (the 30-minute budget is read off
# them). A stage in TEST_BESIDE starts when its turn comes and runs beside
# the stages after it; its output is shown when it ends, and make test fails
# if it failed. sanity (ansible-test in one process) runs beside the lab
# checks (one ansible-playbook at a time against the engine): two cores, one
# each. arm64 is an emulated CPU's work, while the Molecule stage mostly
# waits on hosts and the swarm.
TEST_STAGES := unit lint sanity ee lab-checks arm64 molecule
TEST_BESIDE := sanity arm64

test:
	beside=$$(mktemp -d); trap 'rm -rf "$$beside"' EXIT; \
	for stage in $(TEST_STAGES); do \
	  began=$$(date +%s); \
	  case " $(TEST_BESIDE) " in *" $$stage "*) \
	    echo "make test: $$stage runs beside the stages after it"; \
	    { status=0; $(MAKE) --no-print-directory $$stage >"$$beside/$$stage.log" 2>&1 || status=$$?; \
	      echo "$$status $$(( $$(date +%s) - began ))" >"$$beside/$$stage.done"; } & \
	    continue;; esac; \
	  $(MAKE) --no-print-directory $$stage || { echo "make test: $$stage FAILED"; failed=1; break; }; \
	  echo "make test: $$stage passed in $$(( $$(date +%s) - began )) s"; \
	done; \
	wait; failed=$${failed:-0}; \
	for stage in $(TEST_BESIDE); do \
	  [ -f "$$beside/$$stage.done" ] || continue; \
	  cat "$$beside/$$stage.log"; read -r status seconds <"$$beside/$$stage.done"; \
	  if [ "$$status" -eq 0 ]; then echo "make test: $$stage passed in $$seconds s (beside)"; \
	  else echo "make test: $$stage FAILED (exit $$status) after $$seconds s (beside)"; failed=1; fi; \
	done; \
	exit $$failed

# teamapp from the scaffold on preprod and prod fleets of their own
# (tests/e2e/fleets.py; networks drover-fleet-pre and drover-fleet-prod),
# then torn down. Not in make test: on 2 cores it adds about 25 minutes
# (issue 19).
fleets: venv-test engine arm64
	status=0; python -m tests.e2e.fleets preprod prod || status=$$?; \
	if [ "$$status" -eq 0 ]; then DROVER_E2E_FLEETS=1 DROVER_E2E_FLEET_REUSE=1 \
	  pytest -q -s -p no:cacheprovider --durations=0 tests/e2e/test_fleets.py || status=$$?; fi; \
	python -m tests.e2e.fleets --down preprod prod || status=$$?; \
	exit $$status

# The release cycle on a lab of its own (drover-e2e, 198.18.3.0/24): brought
# up, converged with site.yml and torn down by the tests' session fixture.
e2e: venv-test engine
	pytest -q -p no:cacheprovider --durations=0 tests/e2e

# Not a test: cold and no-op converges against fact gathering and a plain
# shell floor, on 3 and 9 fresh hosts, printed as ratios of one run.
bench: venv engine
	python tests/bench/converge $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .ansible tests/output .ee

include mk/pipeline.mk
