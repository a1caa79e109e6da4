"""The ``highpeaks-agent`` command: ``diagnose`` a dump offline, or ``run`` the operator.

Commands import their modules lazily, so ``diagnose`` starts without loading Kopf, the
Kubernetes client or the HTTP stack that other commands need.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; CONTRACT §1 and §5 fix the flags."""
    parser = argparse.ArgumentParser(
        prog="highpeaks-agent",
        description="Explains failing Pods and Deployment rollouts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    diag = commands.add_parser(
        "diagnose",
        help="diagnose a `kubectl cluster-info dump` directory or a List file, offline",
        description=(
            "Diagnose failing workloads offline. PATH is a directory written by "
            "`kubectl cluster-info dump --output-directory DIR`, a JSON or YAML file holding a "
            "Kubernetes List (e.g. `kubectl get pods,deploy,rs,events -o json`), or - for "
            "standard input. Exit status: 0 nothing failing, 1 something failing, 2 unusable input."
        ),
    )
    diag.add_argument("path", metavar="PATH")
    diag.add_argument("-o", "--output", choices=("text", "json"), default="text")
    diag.add_argument("--namespace", "-n", metavar="NS", help="only this namespace")
    diag.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in text output (default: when stdout is a terminal)",
    )

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

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from highpeaks_agent.main import run

        return run(args.port, args.namespaces)
    from highpeaks_agent.diagnose_command import run_diagnose

    return run_diagnose(
        args.path,
        output=args.output,
        namespace=args.namespace,
        color=args.color,
        stdout=sys.stdout,
        stderr=sys.stderr,
        stdin=sys.stdin,
    )


if __name__ == "__main__":
    raise SystemExit(main())
