"""Allow ``python -m highpeaks_agent`` wherever the console script is not on PATH."""

from highpeaks_agent.cli import main

raise SystemExit(main())
