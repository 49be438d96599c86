#!/usr/bin/env bash
# One command on a fresh machine: install factcheck with its test and sentence-transformers extras
# into .venv (and Chromium for the browser tests, where root), lint (ruff) and type-check (mypy;
# both configured in pyproject.toml), then run the whole test suite (the real-model and browser
# tests included). A lint or type error fails the run.
# torch is pinned to a CPU build: an unpinned install pulls a CUDA torch of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,st,ocr]' 'torch==2.13.0'
# The browser tests (tests/test_web.py) drive the system's Chromium through playwright (from the
# [test] extra; playwright cannot download browsers here). Install Debian's where we are root;
# if that fails the run goes on and those tests skip, saying why.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
    && [ -z "${FACTCHECK_CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { timeout 900 apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium; } \
      >/dev/null 2>&1 || echo "note: chromium could not be installed; browser tests will skip" >&2
  else
    echo "note: no chromium (apt-get install chromium as root); browser tests will skip" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/mypy
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -q "$@"
