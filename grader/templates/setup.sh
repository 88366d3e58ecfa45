#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: on any of its
# base images (Ubuntu 18.04 to 24.04, Fedora, CentOS). The grader needs Python 3.9 or
# newer with venv: the image's own where it has one (with Ubuntu's pythonX.Y-venv added
# where that is missing), else a standalone CPython installed by uv.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"

# The image's package manager, whichever it has; its chatter goes to the build log.
install_packages() {
    if command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
    elif command -v dnf >/dev/null; then
        dnf install -y -q "$@" >&2
    elif command -v yum >/dev/null; then
        yum install -y -q "$@" >&2
    else
        return 1
    fi
}

# A Python 3.9 or newer that can make a virtual environment with pip in it.
usable() {
    "$1" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null
}

# The newest usable Python of the image, printed; fails when it has none.
find_python() {
    local candidate version
    for candidate in python3.13 python3.12 python3.11 python3.10 python3.9 python3; do
        command -v "$candidate" >/dev/null || continue
        if usable "$candidate"; then echo "$candidate"; return 0; fi
        version=$("$candidate" -c 'import sys; v = sys.version_info; print(f"{v[0]}.{v[1]}") if v >= (3, 9) else sys.exit(1)' \
            2>/dev/null) || continue
        # Ubuntu keeps venv's pip in a package of its own.
        if install_packages "python$version-venv" && usable "$candidate"; then echo "$candidate"; return 0; fi
    done
    return 1
}

# A standalone CPython 3.11 from uv, under the autograder's folder, where every uid can
# read it (root's home is closed to the uid student code runs as); printed.
standalone_python() {
    local installer="https://astral.sh/uv/install.sh"
    command -v curl >/dev/null || command -v wget >/dev/null || install_packages curl ca-certificates || true
    if command -v curl >/dev/null; then
        curl -LsSf "$installer" | env UV_INSTALL_DIR="$root/uv" UV_NO_MODIFY_PATH=1 sh >&2
    else
        wget -qO- "$installer" | env UV_INSTALL_DIR="$root/uv" UV_NO_MODIFY_PATH=1 sh >&2
    fi
    UV_PYTHON_INSTALL_DIR="$root/python" "$root/uv/uv" python install 3.11 >&2
    UV_PYTHON_INSTALL_DIR="$root/python" "$root/uv/uv" python find 3.11
}

# The virtual environment, from this Python: torch's CPU build within the package's own
# requirement, then the grader. Fails where torch has no build for that Python.
build() {
    rm -rf "$root/venv"
    "$1" -m venv "$root/venv" \
        && "$root/venv/bin/python" -m pip install -q --upgrade pip \
        && "$root/venv/bin/python" -m pip install -q "$torch" --index-url https://download.pytorch.org/whl/cpu \
        && "$root/venv/bin/python" -m pip install -q "$root/source"
}

main() {
    local python=""
    # The kernel's seccomp filters are built by libseccomp.
    if ! ldconfig -p 2>/dev/null | grep -q libseccomp.so.2; then
        install_packages libseccomp2 || install_packages libseccomp || true
    fi
    if ! { python=$(find_python) && build "$python"; }; then
        if [ -n "$python" ]; then echo "setup.sh: torch or the grader would not install on $("$python" --version)"; fi
        echo "setup.sh: a standalone CPython 3.11 instead"
        python=$(standalone_python)
        build "$python"
    fi
    echo "setup.sh: $("$root/venv/bin/python" --version) from $(command -v "$python")"
    # Student code runs as a uid of its own: it may read the grader's installation, never
    # the rubric (its hidden checks), and change nothing of the autograder.
    chmod 600 "$root/source/rubric.toml"
    chmod -R go-w "$root/source" "$root/venv"
    if [ -d "$root/python" ]; then chmod -R go-w,go+rX "$root/python"; fi
    # What run_autograder will require, tried now, so that an image that lacks a layer
    # shows here and not in the first student's results.
    if ! "$root/venv/bin/backprop-ninja" doctor --require-confinement "${BACKPROP_NINJA_REQUIRE:-$required}"; then
        echo "setup.sh: WARNING: this image lacks a confinement layer that run_autograder requires" \
            "(${BACKPROP_NINJA_REQUIRE:-$required}): every submission would be refused. See the lines above."
    fi
}

# Sourced (by the tests) it only defines its functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
