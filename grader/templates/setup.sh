#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
cd /autograder/source

python=""
for candidate in python3.12 python3.11; do
    if command -v "$candidate" >/dev/null; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
    apt-get update -q
    apt-get install -y -q python3.11 python3.11-venv
    python=python3.11
fi
"$python" -m venv /autograder/venv
/autograder/venv/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q /autograder/source
