# The two set-up commands of README: `make demo` and `make test`. Both work from a clean
# clone with only python3 (3.11+) and pip; everything else is installed into .venv.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= examples/dumps/crashloop-bad-config
IMAGE  ?= highpeaks-devops-agent:dev
# The YAML that builds and ships the project (the linter's own config included).
YAML   := .yamllint k8s crds examples .github
# Go tools built from the Go module proxy into a cache outside the repository, one directory per
# pinned version and hash of go.sum and main.go, so a second run (or another checkout) reuses the
# binary: the key, not file times, says when to rebuild.
TOOLS_CACHE  ?= $(HOME)/.cache/highpeaks-agent/tools
HELM_VERSION := $(shell sed -n 's|^[[:space:]]*helm.sh/helm/v4 ||p' tools/helm/go.mod)
HELM_SUM     := $(shell cat tools/helm/go.sum tools/helm/main.go | sha256sum | cut -c1-16)
HELM         := $(TOOLS_CACHE)/helm-$(HELM_VERSION)-$(HELM_SUM)/helm
CHART        := k8s/helm/highpeaks-agent
# The manifest scanner users run in CI, in a venv of its own: it pins cyclonedx-python-lib below
# what cyclonedx-bom (`make sbom`, in .venv) needs, so the two cannot share one environment.
CHECKOV_VERSION := 3.3.30
CHECKOV         := $(TOOLS_CACHE)/checkov-$(CHECKOV_VERSION)/bin/checkov

.PHONY: demo test lint typecheck unit install clean bench e2e sbom lock cluster cluster-test \
	helm helm-path scan chart

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

## Python (ruff), the Dockerfile (hadolint), the CI workflow (zizmor, offline), the YAML, the
## Helm chart (helm lint --strict) and what ships through a security scanner (`make scan`,
## which renders Kustomize with the kubectl built beside the control plane).
lint: $(STAMP) $(HELM) $(CHECKOV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/zizmor --offline --strict-collection .github/workflows
	$(VENV)/bin/yamllint --strict $(YAML)
	$(HELM) lint --strict $(CHART)
	$(MAKE) --no-print-directory scan

SCAN := build/scan
# The digest a release's image is pinned by: a release passes its pushed image's digest.
RELEASE_IMAGE_DIGEST ?= sha256:0000000000000000000000000000000000000000000000000000000000000000
CHECKOV_RUN = $(CHECKOV) --skip-download --framework kubernetes --compact --quiet

## checkov, offline, on the rendered Kustomize overlays and Helm chart. The Deployment carries
## its own explained skips (checkov.io/skip annotations). One more here: CKV_K8S_43 (image
## pinned by digest) for the trees as they stand, which name the image `docker build` makes
## locally (highpeaks-devops-agent:dev) and so has no registry digest; the release render
## (the chart with RELEASE_IMAGE_DIGEST) is scanned without that skip.
scan: $(HELM) $(CHECKOV) cluster
	rm -rf $(SCAN) && mkdir -p $(SCAN)/tree $(SCAN)/release
	kubectl=$$($(CONTROLPLANE))/kubectl && \
		$$kubectl kustomize k8s/overlays/dev > $(SCAN)/tree/kustomize-dev.yaml && \
		$$kubectl kustomize k8s/overlays/monitoring > $(SCAN)/tree/kustomize-monitoring.yaml && \
		$$kubectl kustomize k8s/overlays/actions > $(SCAN)/tree/kustomize-actions.yaml
	$(HELM) template highpeaks-agent $(CHART) -n highpeaks-system --include-crds \
		--set monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true \
		--set monitoring.dashboard.enabled=true,actions.enabled=true > $(SCAN)/tree/chart.yaml
	$(HELM) template highpeaks-agent $(CHART) -n highpeaks-system --include-crds \
		--set image.digest=$(RELEASE_IMAGE_DIGEST) > $(SCAN)/release/chart.yaml
	$(CHECKOV_RUN) --skip-check CKV_K8S_43 -d $(SCAN)/tree
	$(CHECKOV_RUN) -d $(SCAN)/release

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## The unit tests alone, for quick iteration.
unit: $(STAMP)
	$(VENV)/bin/pytest -ra tests/unit

## Against a real cluster running the operator: E2E_KUBECONFIG=... make e2e
e2e: $(STAMP)
	$(VENV)/bin/pytest -ra tests/e2e

## The benchmarks, as reports (no pass/fail).
bench: $(STAMP) cluster
	$(PY) benchmarks/diagnose_bench.py
	$(PY) benchmarks/operator_bench.py
	$(PY) benchmarks/assist_flood_bench.py
	$(PY) benchmarks/alertmanager_bench.py
	HIGHPEAKS_CONTROLPLANE_DIR=$$($(CONTROLPLANE)) $(PY) benchmarks/cluster_bench.py

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

## helm, built from helm.sh/helm/v4 at the version tools/helm/go.mod pins (cold: minutes).
## Tests read its path from HIGHPEAKS_HELM, which `make` exports.
helm: $(HELM)

# Built beside its final name and moved there, so a build cut short or running at the same time
# in another checkout never leaves a half-written helm at that name.
$(HELM):
	mkdir -p $(@D)
	cd tools/helm && partial=$@.$$$$.partial && CGO_ENABLED=0 nice go build -trimpath \
		-ldflags '-s -w -X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)' \
		-o $$partial . && mv $$partial $@

## The helm binary's path, for scripts: `$(make -s helm-path) version`.
helm-path: $(HELM)
	@echo $(HELM)

export HIGHPEAKS_HELM := $(HELM)

$(CHECKOV):
	python3 -m venv $(TOOLS_CACHE)/checkov-$(CHECKOV_VERSION)
	$(TOOLS_CACHE)/checkov-$(CHECKOV_VERSION)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

## The chart, linted and packaged as a release ships it: build/chart/highpeaks-agent-VERSION.tgz
chart: $(HELM)
	$(HELM) lint --strict $(CHART)
	$(HELM) package $(CHART) --destination build/chart
