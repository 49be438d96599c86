#!/usr/bin/env bash
# One command on a fresh machine: install factcheck into .venv (once) and look up a claim in the
# bundled demo sample, offline. Usage: bash scripts/demo.sh "claim text" [check options]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/factcheck ]; then
  echo "Installing factcheck into .venv (first run only)..." >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -e . >&2
fi
if [ "$#" -eq 0 ]; then
  set -- "Vaksin COVID-19 mengandung chip pelacak"
fi
exec .venv/bin/factcheck check --demo "$@"
