"""The ``highpeaks-agent`` command (also installed as ``kubectl-highpeaks``, a kubectl plugin).

``diagnose`` reads a dump offline or the cluster live; ``run`` runs the operator. Commands
import their modules lazily, so ``diagnose PATH`` starts without loading Kopf, the Kubernetes
client or the HTTP stack that other commands need (a test holds it to that).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from highpeaks_agent import __version__
from highpeaks_agent.terminal.request import DiagnoseRequest

PROG = "highpeaks-agent"
PLUGIN_PROG = "kubectl highpeaks"
EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 130, 141


class _VersionAction(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib import metadata

        try:
            version = metadata.version("highpeaks-devops-agent")
        except metadata.PackageNotFoundError:  # run from a source tree, not installed
            version = __version__
        sys.stdout.write(f"{parser.prog} {version}\n")
        parser.exit()


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The argument parser; CONTRACT §1, §1a and §5 fix the flags."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Explains failing Pods and Deployment rollouts."
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_diagnose(commands)
    _add_run(commands)
    _add_actions(commands)
    return parser


def _add_diagnose(commands: Any) -> None:
    diag = commands.add_parser(
        "diagnose",
        help="diagnose the cluster (--live) or a dump / List file offline",
        description=(
            "Diagnose failing workloads: live, in the cluster of your kubeconfig "
            "(`diagnose --live [KIND/NAME]`), or offline from a directory written by "
            "`kubectl cluster-info dump`, a JSON or YAML file holding a Kubernetes List "
            "(e.g. `kubectl get pods,deploy,rs,events -o json`), or - for standard input. "
            "Exit status: 0 nothing failing, 1 something failing, 2 could not diagnose, "
            "130 interrupted."
        ),
    )
    diag.add_argument(
        "subject",
        nargs="?",
        metavar="PATH | KIND/NAME",
        help="offline: the dump or file to read; --live: one workload (deploy/checkout)",
    )
    diag.add_argument("--live", action="store_true", help="read the cluster of your kubeconfig")
    diag.add_argument("--context", metavar="CTX", help="kubeconfig context (--live)")
    scope = diag.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", metavar="NS", help="only this namespace")
    scope.add_argument(
        "--all-namespaces", "-A", action="store_true", help="every namespace (--live)"
    )
    diag.add_argument(
        "--explain", action="store_true", help="ask the Flowise flow (FLOWISE_*) to explain"
    )
    diag.add_argument("-o", "--output", choices=("text", "json", "table"), default="text")
    diag.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in text output (auto: not with NO_COLOR or TERM=dumb; when stdout is a terminal)",
    )


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the operator and its HTTP server (/health, /ready, /assist, /metrics)",
        description=(
            "Run the operator against the cluster kubectl would use (in-cluster service "
            "account, else KUBECONFIG or ~/.kube/config). Settings come from environment "
            "variables; see README."
        ),
    )
    run.add_argument(
        "--port", type=int, metavar="PORT", help="HTTP port (default: HTTP_PORT or 8000)"
    )
    run.add_argument(
        "--namespace",
        "-n",
        dest="namespaces",
        action="extend",
        nargs="+",
        default=[],
        metavar="NS",
        help="watch only these namespaces (default: WATCH_NAMESPACES, else all)",
    )


def _add_actions(commands: Any) -> None:
    approve = commands.add_parser(
        "approve",
        help="approve an action an AgentTask proposes (as the user of your kubeconfig)",
        description=(
            "Approve one of status.proposedActions of an AgentTask: writes spec.approval with "
            "your name as the API server knows it (a SelfSubjectReview). The cluster's "
            "admission policy admits it only if you may patch the target yourself. "
            "Exit status: 0 approved, 2 refused or not approvable."
        ),
    )
    approve.add_argument("task", metavar="TASK", help="the AgentTask's name")
    approve.add_argument(
        "action_id", metavar="ID", help="the proposal's id (kubectl highpeaks actions TASK)"
    )
    listing = commands.add_parser(
        "actions",
        help="list what an AgentTask proposes and which actions ran, by whom",
        description="The proposed actions of an AgentTask, their state, and the record of each run.",
    )
    listing.add_argument("task", metavar="TASK", help="the AgentTask's name")
    listing.add_argument("-o", "--output", choices=("text", "json"), default="text")
    for command in (approve, listing):
        command.add_argument(
            "--namespace", "-n", metavar="NS", help="the task's namespace (default: the context's)"
        )
        command.add_argument("--context", metavar="CTX", help="kubeconfig context")


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Entry point of the console script; returns the process exit status."""
    try:
        return _main(argv, prog)
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`| head`): nothing more to say, and nowhere to say it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def kubectl_plugin() -> int:
    """``kubectl highpeaks …``: kubectl runs ``kubectl-highpeaks`` with the arguments after
    the plugin's name, so this is the same program under kubectl's name."""
    return main(prog=PLUGIN_PROG)


def _main(argv: Sequence[str] | None, prog: str) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.command == "run":
        from highpeaks_agent.main import run

        return run(args.port, args.namespaces)
    if args.command in ("approve", "actions"):
        return _actions_command(args, prog)
    request = _diagnose_request(parser, args)
    from highpeaks_agent.terminal.command import run_diagnose

    return run_diagnose(
        request,
        stdout=sys.stdout,
        stderr=sys.stderr,
        stdin=sys.stdin,
        environ=os.environ,
        prog=prog,
    )


def _actions_command(args: argparse.Namespace, prog: str) -> int:
    from highpeaks_agent.terminal.actions import ActionsRequest, run_actions, run_approve

    request = ActionsRequest(
        task=args.task,
        action_id=getattr(args, "action_id", None),
        namespace=args.namespace,
        context=args.context,
        output=getattr(args, "output", "text"),
    )
    command = run_approve if args.command == "approve" else run_actions
    return command(request, stdout=sys.stdout, stderr=sys.stderr, environ=os.environ, prog=prog)


def _diagnose_request(parser: argparse.ArgumentParser, args: argparse.Namespace) -> DiagnoseRequest:
    def usage(message: str) -> None:
        parser.exit(EXIT_USAGE, f"{parser.prog} diagnose: error: {message}\n")

    if not args.live:
        if args.subject is None:
            usage("give a PATH (a dump, a List file or -), or --live for the cluster")
        if args.context:
            usage("--context reads a cluster: use it with --live")
    return DiagnoseRequest(
        path=None if args.live else args.subject,
        live=args.live,
        target=args.subject if args.live else None,
        namespace=args.namespace,
        all_namespaces=args.all_namespaces,
        context=args.context,
        explain=args.explain,
        output=args.output,
        color=args.color,
    )


if __name__ == "__main__":
    raise SystemExit(main())
