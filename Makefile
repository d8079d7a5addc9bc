# The two commands of the README, and one level of the suite at a time.
LEVELS := unit service platform system
.PHONY: run test bench $(addprefix test-,$(LEVELS))

run:  ## the whole platform in SIM mode, under supervisord; Ctrl-C stops it
	@bash deploy/local/run.sh

test:  ## the whole test suite, against real redis-server, real processes and real systemd
	uv sync -q --all-packages --frozen
	[ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund --silent  # the accessibility check
	uv run pytest

$(addprefix test-,$(LEVELS)): test-%:  ## one level (its pytest marker): make test-unit, test-service, ...
	uv sync -q --all-packages --frozen
	uv run pytest -m $*

bench:  ## the benchmarks in bench/ (minutes; figures as ratios against same-run baselines)
	uv sync -q --all-packages --frozen
	for b in bench/*.py; do uv run python "$$b" || exit 1; done
