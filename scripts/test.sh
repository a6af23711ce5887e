#!/usr/bin/env bash
# One command from a fresh clone to a full test run:
#   bash scripts/test.sh [pytest args]
# Installs system packages (ffmpeg, chromium, libexempi), creates .venv with the
# pinned Python dependencies, then runs the whole suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system_deps.sh
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
exit $status
