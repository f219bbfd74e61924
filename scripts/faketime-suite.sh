#!/bin/bash
# The whole test suite a year ahead and a year back of today's date, under libfaketime
# (apt-get install faketime). No test may depend on the calendar: both runs must pass.
#   bash scripts/faketime-suite.sh            # +365d, then -365d
#   bash scripts/faketime-suite.sh +30d       # any faketime -f offset
set -euo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime is not installed: apt-get install faketime" >&2; exit 2; }
python=${PYTHON:-.venv/bin/python}
offsets=("$@")
[ ${#offsets[@]} -gt 0 ] || offsets=(+365d -365d)
status=0
for offset in "${offsets[@]}"; do
  echo "== faketime -f $offset: $(faketime -f "$offset" date -u +%Y-%m-%d)"
  # sitecustomize.py works round libfaketime's broken sleep; see its docstring.
  PYTHONPATH="$PWD/scripts/faketime${PYTHONPATH:+:$PYTHONPATH}" DONT_FAKE_MONOTONIC=1 \
    faketime -f "$offset" "$python" -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-} || status=1
done
exit $status
