"""Each confinement layer holds on its own: student code tries what it must not do, in
a worker confined by one layer with the others left out, and is stopped by the kernel.
`doctor` tells which layers a machine gives; grading can require them; grading works,
and says so, where a layer is missing; and the grader works for a user who is not root.

Everything hostile here is bounded: no process is started but by pid and for seconds,
nothing is written outside a temporary folder, the only connection tried is to a
listener on 127.0.0.1 that the test opens itself.
"""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from grader.exercises.rubric import load_rubric
from grader.sandbox import confinement, processes
from grader.sandbox.client import ConfinementError, Sandbox
from grader.sandbox.confinement import LAYERS
from grader.sandbox.zygote import zygote
from tests.conftest import FULL_MARKS, ROOT, SOLUTIONS, run_grader

LIMITS = load_rubric().limits
ROOTED = os.geteuid() == 0
ALL_BUT = {
    name: tuple(n for n in ("identity", "seccomp", "landlock", "pid_namespace", "seal") if n != name) for name in LAYERS
}
MARKER = f"bpn-escape-{os.getpid()}"  # the name the escaping processes of these tests take


def attempt(body):
    """A module whose `attempts()` runs each named try of `body` and returns, for each,
    "blocked: <why>" or "allowed"."""
    lines = "".join(f"        {line}\n" for line in body.strip().splitlines())
    return (
        "import ctypes, os, signal, socket, threading, time\n"
        "def attempts():\n"
        "    found = {}\n"
        "    def tries(name, action):\n"
        "        try:\n"
        "            action()\n"
        "            found[name] = 'allowed'\n"
        "        except (OSError, RuntimeError, MemoryError) as error:\n"
        "            found[name] = f'blocked: {error}'\n"
        f"    if True:\n{lines}"
        "    return found\n"
    )


def confined(tmp_path, body, without, limits=LIMITS):
    """The call of `body`'s tries in a worker confined without the layers `without`, and
    the sandbox's layers; the worker and all it started are gone on return."""
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    (folder / "ex9_probe.py").write_text(attempt(body))
    sandbox = Sandbox(folder, limits, without=without)
    try:
        call = sandbox.submit("ex9_probe", "attempts", {})()
    finally:
        sandbox.close()
    return call, {layer.name: layer for layer in sandbox.confinement.layers}


def tried(tmp_path, body, without, limits=LIMITS):
    """What each of `body`'s tries gave, and the layers."""
    call, layers = confined(tmp_path, body, without, limits)
    assert call.failure is None, call.failure
    return call.value, layers


def processes_named(marker):
    return [pid for pid in processes.all_pids() if processes.name(pid) == marker[:15]]


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that counts the connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    accepted = []

    def count():
        try:
            while True:
                accepted.append(server.accept()[0])
        except BlockingIOError:
            return len(accepted)

    yield server.getsockname()[1], count
    server.close()


def test_seccomp_alone_stops_processes_threads_exec_sockets_new_files_and_signals(tmp_path):
    body = (
        """
tries("fork", lambda: os.fork() == 0 and os._exit(0))
tries("thread", lambda: threading.Thread(target=lambda: None).start())
tries("exec", lambda: os.execv("/bin/true", ["true"]))
tries("socket", lambda: socket.socket())
tries("new file", lambda: open("made-here.txt", "w"))
tries("signal", lambda: os.kill(%d, 0))
tries("memfd", lambda: os.memfd_create("x"))
"""
        % zygote().pid
    )
    found, layers = tried(tmp_path, body, ALL_BUT["seccomp"])
    assert layers["seccomp"].active and not layers["landlock"].active
    assert all(outcome.startswith("blocked") for outcome in found.values()), found


def test_landlock_alone_keeps_solutions_system_files_and_other_folders_out_of_reach(tmp_path, listener):
    port, connections = listener
    escape = tmp_path / "escaped.txt"
    body = f"""
tries("read solutions", lambda: open({str(ROOT / "solutions" / "ex2_cross_entropy.py")!r}).read())
tries("read the grader", lambda: open({str(ROOT / "grader" / "rubric.toml")!r}).read())
tries("read /etc/passwd", lambda: open("/etc/passwd").read())
tries("write outside", lambda: open({str(escape)!r}, "w").write("x"))
tries("tcp", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=1))
tries("signal the zygote", lambda: os.kill({zygote().pid}, 0))
"""
    found, layers = tried(tmp_path, body, ALL_BUT["landlock"])
    assert layers["landlock"].active and not layers["seccomp"].active
    assert all(outcome.startswith("blocked") for outcome in found.values()), found
    assert not escape.exists() and connections() == 0


def test_landlock_alone_still_lets_student_code_read_python_and_write_its_scratch_folder(tmp_path):
    body = """
import fractions, json, numpy, torch.distributions
tries("write scratch", lambda: open("scratch-file.txt", "w").write("x"))
"""
    found, _ = tried(tmp_path, body, ALL_BUT["landlock"])
    assert found == {"write scratch": "allowed"}


def test_the_pid_namespace_alone_takes_every_process_a_submission_started_down_with_it(tmp_path):
    body = f"""
def escape():
    renamed, told = os.pipe()  # the call returns once the grandchild bears its name
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, {MARKER.encode()!r}, 0, 0, 0)
            os.write(told, b"x")
            time.sleep(30)
        os.read(renamed, 1)
        os._exit(0)
    os.wait()
tries("escape", escape)
"""
    try:
        call, layers = confined(tmp_path, body, ALL_BUT["pid_namespace"])
        assert layers["pid_namespace"].active
        assert call.failure.kind == "left_processes" and MARKER[:15] in call.failure.message
        time.sleep(0.2)
        assert processes_named(MARKER) == []
    finally:
        processes.kill(processes_named(MARKER))


@pytest.mark.skipif(not confinement.can_switch_uid()[0], reason="needs root and a Python that others can read")
def test_identity_alone_keeps_the_graders_private_files_and_processes_out_of_reach(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root only")
    secret.chmod(0o600)
    owned = tmp_path / "owned.txt"
    owned.write_text("root's")
    owned.chmod(0o644)
    tmp_path.chmod(0o755)
    body = f"""
tries("read a root-only file", lambda: open({str(secret)!r}).read())
tries("change a root-owned file", lambda: open({str(owned)!r}, "a").write("x"))
tries("signal the zygote", lambda: os.kill({zygote().pid}, 0))
tries("fork", lambda: os.fork() == 0 and os._exit(0))
"""
    found, layers = tried(tmp_path, body, ALL_BUT["identity"])
    assert layers["identity"].active and "one process" in layers["limits"].detail
    assert all(outcome.startswith("blocked") for outcome in found.values()), found
    assert owned.read_text() == "root's"


def test_non_dumpable_alone_keeps_the_graders_memory_unreadable_to_its_own_user(tmp_path):
    body = f"""
tries("the zygote's memory", lambda: open("/proc/{zygote().pid}/mem", "rb").close())
tries("the grader's memory", lambda: open("/proc/{os.getpid()}/mem", "rb").close())
tries("the grader's environment", lambda: open("/proc/{os.getpid()}/environ", "rb").read())
"""
    found, layers = tried(tmp_path, body, ("identity", "seccomp", "landlock", "pid_namespace"))
    assert layers["non_dumpable"].active and not layers["identity"].active
    assert all(outcome.startswith("blocked") for outcome in found.values()), found


def test_the_limits_cap_memory_open_files_and_the_size_of_a_file(tmp_path):
    body = """
tries("allocate 2 GB", lambda: bytearray(2 * 2**30))
tries("open 200 files", lambda: [open(os.devnull) for _ in range(200)])
tries("write 8 MB to a file", lambda: open("big.bin", "wb").write(b"x" * 8 * 2**20) and os.path.getsize("big.bin") < 8 * 2**20 and (_ for _ in ()).throw(OSError("cut short")))
"""
    limits = type(LIMITS)(5.0, 5.0, 256, 64)
    found, layers = tried(tmp_path, body, ("seccomp", "landlock", "pid_namespace", "identity"), limits)
    assert layers["limits"].active
    assert all(outcome.startswith("blocked") for outcome in found.values()), found


def test_every_layer_left_out_is_said_so_and_grading_still_works(tmp_path):
    sandbox = Sandbox(SOLUTIONS, LIMITS, without=("identity", "seccomp", "landlock", "pid_namespace"))
    try:
        logits, Yb = torch.randn(8, 5), torch.randint(0, 5, (8,))
        call = sandbox.submit("ex2_cross_entropy", "cross_entropy_backward", {"logits": logits, "Yb": Yb})()
    finally:
        sandbox.close()
    assert call.failure is None and call.value.shape == (8, 5)
    off = {layer.name: layer.detail for layer in sandbox.confinement.layers if not layer.active}
    assert set(off) == {"identity", "seccomp", "landlock", "pid_namespace"}
    assert all("left out" in detail for detail in off.values())


def test_require_confinement_refuses_to_grade_without_a_required_layer(tmp_path):
    with pytest.raises(ConfinementError, match="seccomp") as refused:
        Sandbox(SOLUTIONS, LIMITS, require=("seccomp", "landlock"), without=("seccomp",))
    assert "landlock" not in str(refused.value)
    run = run_grader("grade", "--submission", SOLUTIONS, "--require-confinement", "seccomp,no_such_layer")
    assert run.returncode == 2 and "no confinement layer 'no_such_layer'" in run.stderr


def test_the_report_records_the_seed_and_the_layers_that_were_active(tmp_path):
    out = tmp_path / "report.json"
    run = run_grader(
        "grade",
        "--submission",
        SOLUTIONS,
        "--only",
        "ex2",
        "--format",
        "json",
        "--output",
        out,
        "--require-confinement",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    assert [layer["name"] for layer in data["confinement"]] == list(LAYERS)
    active = {layer["name"] for layer in data["confinement"] if layer["active"]}
    assert {"no_new_privs", "non_dumpable", "seccomp", "landlock", "limits"} <= active
    assert f"seed {data['seed']}" in run.stdout and "confinement layers" in run.stdout  # a report's log
    student = run_grader("grade", "--submission", SOLUTIONS, "--only", "ex2")
    assert "confinement" not in student.stdout  # what a student reads at the terminal


def test_doctor_shows_every_layer_and_every_try_from_inside_a_worker_is_blocked():
    run = run_grader("doctor", "--require-confinement", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in LAYERS:
        assert f"\n  {name} " in run.stdout
    tried = run.stdout.split("tried from inside a confined worker:")[1].strip().splitlines()
    assert len(tried) >= 8 and all("blocked" in line for line in tried), run.stdout


def _readable_by_others(path):
    return confinement.unreadable_by_others([Path(path)]) is None


@pytest.mark.skipif(not ROOTED or not shutil.which("setpriv"), reason="needs root and setpriv to become another user")
def test_a_user_who_is_not_root_grades_with_every_layer_but_identity(tmp_path):
    python = Path(sys.executable)
    if not (_readable_by_others(python.resolve().parent) and _readable_by_others(ROOT)):
        pytest.skip(f"this Python ({python.resolve()}) or the repository is not readable by other users")
    tmp_path.chmod(0o755)
    for parent in tmp_path.parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "ex2_cross_entropy.py", "a") as f:  # reads the instructor's solutions, if it can
        f.write(
            f"\n\ndef cross_entropy_backward(logits, Yb):\n    namespace = {{}}\n"
            f"    exec(open({str(ROOT / 'solutions' / 'ex2_cross_entropy.py')!r}).read(), namespace)\n"
            "    return namespace['cross_entropy_backward'](logits, Yb)\n"
        )
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (tmp_path / "out").mkdir()
    os.chown(tmp_path / "out", 65534, 65534)
    out = tmp_path / "out" / "report.json"
    command = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        f"HOME={tmp_path}",
        sys.executable,
        "-m",
        "grader",
        "grade",
        "--submission",
        str(folder),
        "--format",
        "json",
        "--output",
        str(out),
    ]
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.is_file(), run.stdout + run.stderr
    data = json.loads(out.read_text())
    layers = {layer["name"]: layer for layer in data["confinement"]}
    assert not layers["identity"]["active"] and "not root" in layers["identity"]["detail"]
    assert all(layers[name]["active"] for name in ("no_new_privs", "non_dumpable", "seccomp", "landlock", "limits"))
    scores = {item["id"]: item["score"] for item in data["items"]}
    assert scores.pop("ex2.cross_entropy_backward") == 0, run.stdout
    assert sum(scores.values()) == FULL_MARKS - 4


DOCKER_LIKE = """
import errno, os, sys
import pyseccomp as seccomp
rules = seccomp.SyscallFilter(seccomp.ALLOW)
rules.add_rule(seccomp.ERRNO(errno.EPERM), "unshare")  # as Docker's default profile forbids namespaces
for name in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), name)  # as a kernel without Landlock
rules.load()
os.execv(sys.executable, [sys.executable, "-m", "grader", *sys.argv[1:]])
"""


def test_without_namespaces_or_landlock_grading_still_works_and_says_which_layers_it_lost(tmp_path):
    out = tmp_path / "report.json"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            DOCKER_LIKE,
            "grade",
            "--submission",
            str(SOLUTIONS),
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    layers = {layer["name"]: layer for layer in data["confinement"]}
    assert data["score"] == FULL_MARKS
    assert not layers["pid_namespace"]["active"] and "namespaces" in layers["pid_namespace"]["detail"]
    assert not layers["landlock"]["active"] and "no Landlock" in layers["landlock"]["detail"]
    assert layers["seccomp"]["active"] and layers["limits"]["active"] and layers["non_dumpable"]["active"]
    assert "not here: landlock, pid_namespace" in run.stdout
    refused = subprocess.run(
        [sys.executable, "-c", DOCKER_LIKE, "grade", "--submission", str(SOLUTIONS), "--require-confinement"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2 and "landlock" in refused.stderr and "pid_namespace" not in refused.stderr
