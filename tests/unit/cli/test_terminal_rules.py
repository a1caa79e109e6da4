"""The terminal's rules: colour, settings errors, usage errors, Ctrl-C, --version, the plugin,
the progress line, nothing-to-diagnose inputs, and --explain without a reachable flow."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from highpeaks_agent.cli import kubectl_plugin, main
from highpeaks_agent.terminal.console import Console, use_color
from tests.support.diagnose_cli import ROOT, run_diagnose, run_in_process
from tests.support.operator_process import free_port

DUMP = str(ROOT / "examples" / "dumps" / "crashloop-bad-config")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "environ", "tty", "expected"),
    [
        ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
        ("never", {}, True, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": "yes", "TERM": "xterm"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, False),  # any value, even empty (CONTRACT §1a)
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"TERM": "xterm-256color"}, True, True),
        ("auto", {}, False, False),
    ],
)
def test_colour_follows_flag_then_no_color_then_term_then_tty(
    choice: str, environ: dict[str, str], tty: bool, expected: bool
) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert use_color(choice, environ, stream) is expected  # type: ignore[arg-type]


def test_no_color_reaches_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["diagnose", DUMP]) == 1
    assert "\033[1m" in terminal.getvalue()
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["diagnose", DUMP]) == 1
    assert "\033[" not in terminal.getvalue()


@pytest.mark.parametrize(
    ("variable", "value"), [("CRASHLOOP_RESTARTS", "abc"), ("HTTP_PORT", "abc")]
)
def test_an_invalid_setting_is_one_line_naming_it_and_exit_2(variable: str, value: str) -> None:
    ran = run_in_process([DUMP], {variable: value})
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.count("\n") == 1
    assert ran.err.startswith(f"highpeaks-agent: error: invalid settings: {variable}: ")


def test_an_unreadable_secret_file_is_one_line_naming_the_variable_and_path(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "not-mounted" / "api-key"
    ran = run_in_process([DUMP], {"FLOWISE_API_KEY_FILE": str(missing)})
    assert (ran.code, ran.out) == (2, "")
    assert ran.err == (
        "highpeaks-agent: error: invalid settings: FLOWISE_API_KEY_FILE: "
        f"cannot read {missing} (No such file or directory)\n"
    )


def test_usage_errors_exit_2_before_reading_anything(tmp_path: Path) -> None:
    for args, problem in (
        ([], "give a PATH"),
        (["--context", "prod", DUMP], "--context reads a cluster"),
        (["--live", "-A", "deploy/x"], "use -n NS, not -A"),
        (["--live", "frobnicator/x"], "cannot diagnose 'frobnicator'; expected one of deployment"),
        (["--live", "checkout"], "expected KIND/NAME"),
    ):
        ran = run_in_process(args, {"KUBECONFIG": str(tmp_path / "none")})
        assert ran.code == 2, (args, ran.err)
        assert problem in ran.err, (args, ran.err)
        assert ran.err.count("\n") == 1, ran.err
    with pytest.raises(SystemExit) as exit_:
        main(["diagnose", "--namespace", "a", "-A", DUMP])
    assert exit_.value.code == 2


def test_only_events_is_nothing_to_diagnose(tmp_path: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text(
        '{"kind": "EventList", "apiVersion": "v1", "items": [{"metadata": {"name": "e1", '
        '"namespace": "shop"}, "involvedObject": {"kind": "Pod", "name": "p"}, '
        '"reason": "BackOff", "message": "Back-off restarting failed container"}]}'
    )
    ran = run_in_process([str(events)])
    assert (ran.code, ran.out) == (2, "")
    assert ran.err == (
        f"highpeaks-agent: error: {events}: nothing to diagnose: no pods or workloads in the input\n"
    )


def test_version_and_the_kubectl_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "highpeaks_agent", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "operator")},
        check=False,
    )
    assert (ran.returncode, ran.stdout) == (0, "highpeaks-agent 0.1.0\n")
    plugin = Path(sys.executable).parent / "kubectl-highpeaks"
    assert plugin.exists(), "pip install -e . installs the kubectl plugin next to python"
    ran = subprocess.run(
        [str(plugin), "diagnose", DUMP, "-o", "table"], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 1, ran.stderr
    assert ran.stdout.splitlines()[1].split()[:5] == [
        "orders",
        "Deployment",
        "orders-api",
        "warning",
        "CrashLoopBackOff.ConfigInvalid",
    ]
    monkeypatch.setattr(sys, "argv", ["kubectl-highpeaks", "diagnose", "/nonexistent"])
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert kubectl_plugin() == 2
    assert stderr.getvalue().startswith("kubectl highpeaks: error: /nonexistent: ")


def test_ctrl_c_exits_130_with_one_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "highpeaks_agent", "diagnose", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "operator")},
    )
    time.sleep(5)  # started and waiting for standard input (a loaded machine starts slowly)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert out == ""
    assert err.strip() == "highpeaks-agent: interrupted"


def test_the_progress_line_is_drawn_on_a_terminal_only_and_erased() -> None:
    terminal = Terminal()
    console = Console(terminal)
    console.progress("reading dump: file 1 of 2")
    console.error("it broke")
    assert terminal.getvalue() == (
        "\r\033[Kreading dump: file 1 of 2\r\033[Khighpeaks-agent: error: it broke\n"
    )
    piped = io.StringIO()
    quiet = Console(piped)
    quiet.progress("reading")
    quiet.clear()
    assert piped.getvalue() == ""


def test_a_dumb_terminal_gets_no_escape_sequence_at_all() -> None:
    terminal = Terminal()
    console = Console(terminal, environ={"TERM": "dumb"})
    console.progress("reading dump: file 1 of 2")
    console.warning("a skipped file")
    console.progress("diagnosing")
    console.clear()
    drawn = terminal.getvalue()
    assert "\033" not in drawn
    assert drawn == (
        "\rreading dump: file 1 of 2"
        "\r                         \rhighpeaks-agent: warning: a skipped file\n"
        "\rdiagnosing\r          \r"
    )


def test_a_long_read_shows_progress_then_only_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr, stdout = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["diagnose", DUMP]) == 1
    drawn = stderr.getvalue()
    assert "reading" in drawn and drawn.endswith("\r\033[K")
    assert stdout.getvalue().startswith("1 failing workload (7 pods checked)")


def test_explain_without_flowise_keeps_the_rules_and_the_exit_status() -> None:
    ran = run_in_process([DUMP, "--explain"], {"FLOWISE_URL": "", "FLOWISE_FLOW_ID": ""})
    assert ran.code == 1
    assert ran.out.startswith("1 failing workload")
    assert ran.err == (
        "highpeaks-agent: warning: no explanation: Flowise is not configured "
        "(set FLOWISE_URL and FLOWISE_FLOW_ID)\n"
    )


def test_explain_with_flowise_unreachable_is_one_line_and_the_same_exit_status() -> None:
    env = {
        "FLOWISE_URL": f"http://127.0.0.1:{free_port()}",
        "FLOWISE_FLOW_ID": "troubleshooting",
        "FLOWISE_MAX_RETRIES": "0",
    }
    rules = run_in_process([DUMP, "-o", "json"])
    ran = run_in_process([DUMP, "-o", "json", "--explain"], env)
    assert ran.code == rules.code == 1
    assert ran.json()["diagnoses"] == rules.json()["diagnoses"]
    assert "explanation" not in ran.json()
    assert ran.err.count("\n") == 1
    assert ran.err.startswith(
        "highpeaks-agent: warning: no explanation: Flowise unavailable: cannot connect"
    )


def test_the_real_process_prints_only_the_report_on_stdout() -> None:
    ran = run_diagnose([DUMP, "-o", "json"])
    assert ran.code == 1
    assert ran.json()["diagnoses"][0]["target"]["name"] == "orders-api"
