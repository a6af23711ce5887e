#!/usr/bin/env bash
# One command from a fresh clone to the standalone viewer on a folder:
#   bash scripts/serve.sh /path/to/ComfyUI/output [--port 8189 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then echo "usage: bash scripts/serve.sh OUTPUT_DIR [options]" >&2; exit 2; fi
out="$1"; shift
PY=${PYTHON:-python3}
command -v ffmpeg >/dev/null 2>&1 || echo "Note: ffmpeg not found on PATH; the bundled imageio-ffmpeg binary is used for videos."
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/python . --output-dir "$out" "$@"
