#!/usr/bin/env bash
# One command on a fresh machine: install factcheck with its test and sentence-transformers extras
# into .venv, then run the whole test suite (the real-model tests included).
# torch is pinned to a CPU build: an unpinned install pulls a CUDA torch of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,st,ocr]' 'torch==2.13.0'
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -q "$@"
