# The release pipeline's steps (Jenkinsfile, docs/jenkins.md), one target
# each, every one an ansible-playbook run of the project:
#   make images  VERSION=1.4.2                 build and push the app's images (tags VERSION and GIT_SHA)
#   make deploy  ENV=dev VERSION=1.4.2         deploy an environment at a version
#   make smoke   ENV=dev                       ask the environment through the edge
#   make promote FROM=preprod TO=prod          deploy to TO the digests FROM runs
#                [FROM_INVENTORY=inventories/preprod]  FROM's own fleet: its images copied into TO's registry
#   make rollback ENV=prod [RELEASE=N]         back to release N (default: the one before)
# INVENTORY defaults to inventories/<environment> (TO for promote); the lab
# holds every environment in one: INVENTORY=inventories/lab. Each target logs
# to $(LOG_DIR)/<target>.log, which the Jenkinsfile archives.

ENV ?=
FROM ?=
TO ?=
FROM_INVENTORY ?=
RELEASE ?=
INVENTORY ?=
ANSIBLE_ARGS ?=
LOG_DIR ?= logs
GIT_SHA ?= $(shell git rev-parse --short HEAD 2>/dev/null)
# vX.Y.Z tagged on this commit gives X.Y.Z; otherwise the collection's
# version and the commit (0.1.0-g1a2b3c4): a docker tag either way.
VERSION ?= $(or $(patsubst v%,%,$(shell git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null)),$(shell sed -n 's/^version: *//p' galaxy.yml)-g$(GIT_SHA))

pipeline_inventory = $(or $(INVENTORY),inventories/$(1))
pipeline_require = $(if $($(1)),,$(error make $@ needs $(1)=...))
pipeline_playbook = ansible-playbook -i '$(call pipeline_inventory,$(1))' $(ANSIBLE_ARGS)

.PHONY: version images deploy smoke promote rollback

version:
	@echo '$(VERSION)'

images deploy smoke promote rollback: export ANSIBLE_LOG_PATH = $(CURDIR)/$(LOG_DIR)/$@.log

images: venv | $(LOG_DIR)
	$(call pipeline_playbook,$(or $(ENV),dev)) playbooks/images.yml \
	  $(if $(ENV),-e 'env=$(ENV)') -e 'version=$(VERSION)' -e 'git_sha=$(GIT_SHA)'

deploy: venv | $(LOG_DIR)
	$(call pipeline_require,ENV)
	$(call pipeline_playbook,$(ENV)) playbooks/deploy.yml -e 'env=$(ENV)' -e 'version=$(VERSION)'

smoke: venv | $(LOG_DIR)
	$(call pipeline_require,ENV)
	$(call pipeline_playbook,$(ENV)) playbooks/smoke.yml -e 'env=$(ENV)'

promote: venv | $(LOG_DIR)
	$(call pipeline_require,FROM)
	$(call pipeline_require,TO)
	$(call pipeline_playbook,$(TO)) playbooks/promote.yml -e 'from=$(FROM)' -e 'to=$(TO)' \
	  $(if $(FROM_INVENTORY),-e 'from_inventory=$(FROM_INVENTORY)')

rollback: venv | $(LOG_DIR)
	$(call pipeline_require,ENV)
	$(call pipeline_playbook,$(ENV)) playbooks/rollback.yml -e 'env=$(ENV)' $(if $(RELEASE),-e 'release=$(RELEASE)')

$(LOG_DIR):
	mkdir -p $@
