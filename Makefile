# The two set-up commands of README: `make demo` and `make test`. Both work from a clean
# clone with only python3 (3.11+) and pip; everything else is installed into .venv.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= examples/dumps/crashloop-bad-config
IMAGE  ?= highpeaks-devops-agent:dev
# The YAML that builds and ships the project (the linter's own config included).
YAML   := .yamllint k8s crds examples .github

.PHONY: demo test lint typecheck unit install clean bench e2e sbom lock cluster cluster-test

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Diagnose the shipped example dump (exit status 1 there means "found something failing").
demo: $(STAMP)
	@$(VENV)/bin/highpeaks-agent diagnose $(DEMO) || [ $$? -eq 1 ]

## The real control plane the cluster tier runs (etcd, kube-apiserver, controller-manager,
## scheduler, kubectl), built from the Go module proxy into ~/.cache/highpeaks-agent/tools,
## keyed by go.sum: the first build takes about 20 minutes on 2 cores, later ones nothing.
CONTROLPLANE = tools/build-go-tool.sh tools/controlplane kubectl

cluster:
	@$(CONTROLPLANE)

## Everything CI runs: lint, types, and the whole test suite (the cluster tier included).
## kubectl is the one built with the control plane, first on PATH, so the tests never
## depend on whichever kubectl (if any) the machine has.
test: lint typecheck cluster
	dir=$$($(CONTROLPLANE)) && HIGHPEAKS_CONTROLPLANE_DIR=$$dir PATH=$$dir:$$PATH $(VENV)/bin/pytest -ra

## The cluster tier alone: the operator against the real control plane.
cluster-test: $(STAMP) cluster
	dir=$$($(CONTROLPLANE)) && HIGHPEAKS_CONTROLPLANE_DIR=$$dir PATH=$$dir:$$PATH \
		$(VENV)/bin/pytest -ra tests/cluster

## Python (ruff), the Dockerfile (hadolint), the CI workflow (zizmor, offline) and the YAML.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/zizmor --offline --strict-collection .github/workflows
	$(VENV)/bin/yamllint --strict $(YAML)

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## The unit tests alone, for quick iteration.
unit: $(STAMP)
	$(VENV)/bin/pytest -ra tests/unit

## Against a real cluster running the operator: E2E_KUBECONFIG=... make e2e
e2e: $(STAMP)
	$(VENV)/bin/pytest -ra tests/e2e

## The benchmarks, as reports (no pass/fail).
bench: $(STAMP)
	$(PY) benchmarks/diagnose_bench.py
	$(PY) benchmarks/operator_bench.py
	$(PY) benchmarks/assist_flood_bench.py
	$(PY) benchmarks/alertmanager_bench.py

## The image's runtime dependencies (and the `otel` extra), pinned with hashes, for the image's
## Python and platform. Run after changing pyproject.toml's dependencies; commit the result.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra otel --generate-hashes --no-emit-index-url \
		--python-version 3.12 --python-platform x86_64-unknown-linux-gnu \
		--custom-compile-command "make lock" --output-file requirements.lock

## CycloneDX SBOM of the Python packages inside the built image (needs Docker): build/sbom.cdx.json
sbom: $(STAMP)
	mkdir -p build
	docker run --rm --entrypoint pip $(IMAGE) list --format=freeze --disable-pip-version-check \
		--exclude highpeaks-devops-agent > build/image-packages.txt
	$(VENV)/bin/cyclonedx-py requirements --pyproject pyproject.toml --output-reproducible \
		--output-file build/sbom.cdx.json build/image-packages.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
