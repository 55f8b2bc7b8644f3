# Two commands for a fresh machine (see README): `make demo` and `make test`.
# Both create .venv, install pytest-donki with its test extras, and fetch the
# Apache Kafka broker jars with Maven into the user cache (once).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install system-deps browser kcat clean kafka-image test-container

# the main job: the e-mixed scenario as a test on the embedded broker, with its summary
demo: install
	$(BIN)/python -m pytest --donki-scenario=e-mixed $(PYTEST_ARGS)

test: install lint browser kcat
	DONKI=$(BIN)/donki .ci/with-docker $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# the shape of the house: lint and import order, types, and the layers contract
lint: $(VENV)/.installed
	$(BIN)/ruff check harness pytest_donki tests benchmarks conftest.py
	$(BIN)/mypy
	$(BIN)/lint-imports

install: $(VENV)/.installed
	$(BIN)/donki kafka fetch

$(VENV)/.installed: pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Java 17+ and Maven run the local broker; installed with apt-get only where they are missing.
system-deps:
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  echo "installing Java 17 and Maven with apt-get"; \
	  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless maven; }

# Chromium opens the pytest-html report in a test; installed with apt-get only where it is missing.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  echo "installing Chromium with apt-get (the HTML report test opens the page in it)"; \
	  apt-get update -qq && apt-get install -y -qq chromium || echo "no Chromium: the HTML report test fails in CI (CI=true) and skips elsewhere"; }

# kcat is a peer in the broker, recording and streams benchmarks (run --quick by the tests); apt-get only where missing.
kcat:
	@command -v kcat >/dev/null || { \
	  echo "installing kcat with apt-get (a consume peer of the Kafka broker benchmark)"; \
	  apt-get update -qq && apt-get install -y -qq kcat || echo "no kcat: the Kafka broker benchmark says so"; }

# the Kafka image for the container provider, built here (no registry needed); see docs/kafka.md
kafka-image: install
	.ci/docker-up
	$(BIN)/donki kafka image build

# only the tests of the container path, with Docker started (and stopped) as in `make test`
test-container: install
	DONKI=$(BIN)/donki .ci/with-docker $(BIN)/python -m pytest -p no:xdist $(PYTEST_ARGS) \
	  tests/kafka/test_broker_contract.py tests/kafka/test_image_build.py tests/kafka/test_image_script.py \
	  tests/kafka/test_providers.py tests/plugin/test_container_scenario.py

clean:
	rm -rf $(VENV) build *.egg-info
