"""Repository URLs as the controllers keep them → the page comparing two commits, in each
host's own shape."""

from __future__ import annotations

import pytest

from highpeaks_agent.engine.repo_links import (
    compare_url,
    short_sha,
    split_flux_revision,
    web_url,
)

OLD = "4f3c2a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"
NEW = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"


@pytest.mark.parametrize(
    ("repo_url", "web"),
    [
        ("https://github.com/example/deploy.git", "https://github.com/example/deploy"),
        ("https://github.com/example/deploy/", "https://github.com/example/deploy"),
        ("git@github.com:example/deploy.git", "https://github.com/example/deploy"),
        ("ssh://git@gitlab.com/group/sub/deploy.git", "https://gitlab.com/group/sub/deploy"),
        ("ssh://git@gitea.corp.example:2222/ops/deploy", "https://gitea.corp.example/ops/deploy"),
        (
            "https://ci:glpat-SECRET@gitlab.example.com/ops/deploy.git",
            "https://gitlab.example.com/ops/deploy",
        ),
        ("https://git.example.com:8443/ops/deploy", "https://git.example.com:8443/ops/deploy"),
        ("http://gitea.local/ops/deploy.git", "http://gitea.local/ops/deploy"),
        ("oci://ghcr.io/example/charts", ""),
        ("https://charts.example.com", ""),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_web_url_without_credentials_ssh_ports_or_dot_git(repo_url: str, web: str) -> None:
    assert web_url(repo_url) == web


@pytest.mark.parametrize(
    ("repo_url", "link"),
    [
        (
            "https://github.com/example/deploy.git",
            f"https://github.com/example/deploy/compare/{OLD}...{NEW}",
        ),
        (
            "git@github.example.com:ops/deploy.git",
            f"https://github.example.com/ops/deploy/compare/{OLD}...{NEW}",
        ),
        (
            "https://gitlab.com/group/sub/deploy.git",
            f"https://gitlab.com/group/sub/deploy/-/compare/{OLD}...{NEW}",
        ),
        (
            "git@bitbucket.org:team/deploy.git",
            f"https://bitbucket.org/team/deploy/branches/compare/{NEW}%0D{OLD}",
        ),
        ("https://gitea.com/ops/deploy.git", f"https://gitea.com/ops/deploy/compare/{OLD}...{NEW}"),
        (
            "https://codeberg.org/ops/deploy.git",
            f"https://codeberg.org/ops/deploy/compare/{OLD}...{NEW}",
        ),
        (
            "ssh://git@gitea.corp.example:2222/ops/deploy",
            f"https://gitea.corp.example/ops/deploy/compare/{OLD}...{NEW}",
        ),
        # a host of unknown shape (Bitbucket Server, Azure DevOps, cgit): no guessed link
        ("https://git.example.com/ops/deploy.git", ""),
        ("https://dev.azure.com/org/project/_git/deploy", ""),
    ],
)
def test_compare_link_in_each_hosts_own_shape(repo_url: str, link: str) -> None:
    assert compare_url(repo_url, OLD, NEW) == link


@pytest.mark.parametrize(("old", "new"), [("", NEW), ("v1.2.0", NEW), (OLD, "main"), (NEW, NEW)])
def test_no_link_unless_two_different_commits(old: str, new: str) -> None:
    assert compare_url("https://github.com/example/deploy", old, new) == ""


def test_short_sha_only_shortens_commits() -> None:
    assert short_sha(NEW) == "9a8b7c6"
    assert short_sha("2.14.0") == "2.14.0"


@pytest.mark.parametrize(
    ("revision", "parts"),
    [
        (f"main@sha1:{NEW}", ("main", NEW)),
        (f"refs/heads/main@sha1:{NEW}", ("refs/heads/main", NEW)),
        (f"v1.2.0@sha1:{NEW}", ("v1.2.0", NEW)),
        (f"main/{NEW}", ("main", NEW)),
        (f"sha1:{NEW}", ("", NEW)),
        (NEW, ("", NEW)),
    ],
)
def test_flux_revisions_split_into_ref_and_commit(revision: str, parts: tuple[str, str]) -> None:
    assert split_flux_revision(revision) == parts
