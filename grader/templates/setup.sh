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
# The kernel's seccomp filters are built by libseccomp.
if ! ldconfig -p 2>/dev/null | grep -q libseccomp.so.2 && command -v apt-get >/dev/null; then
    apt-get update -q && apt-get install -y -q libseccomp2
fi
"$python" -m venv /autograder/venv
/autograder/venv/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q /autograder/source
# Student code runs as a uid of its own: it may read the grader's installation, never the
# rubric (its hidden checks), and change nothing of the autograder.
chmod 600 /autograder/source/rubric.toml
chmod -R go-w /autograder/source /autograder/venv
/autograder/venv/bin/backprop-ninja doctor || true
