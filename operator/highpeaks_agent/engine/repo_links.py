"""Git repository URLs as people open them: the web address of a repository, and the link
that compares two of its commits.

GitOps controllers keep the URL they clone (``https://github.com/org/repo.git``,
``git@github.com:org/repo.git``, ``ssh://git@host:2222/org/repo``); the person on call wants
the page that shows what changed. Each host spells that page its own way:

- GitHub (and GitHub Enterprise): ``<repo>/compare/<old>...<new>``
- GitLab: ``<repo>/-/compare/<old>...<new>``
- Gitea and Forgejo (Codeberg): ``<repo>/compare/<old>...<new>``
- Bitbucket Cloud: ``<repo>/branches/compare/<new>%0D<old>`` (newest first)

A host of unknown shape gets no link rather than a guessed one. Credentials in a URL
(``https://user:token@host/...``) never leave this module.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

Host = Literal["github", "gitlab", "gitea", "bitbucket"]

#: A full or abbreviated commit SHA (SHA-1 or SHA-256), as Git and the controllers write it.
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
#: ``git@host:owner/repo.git``: scp-like SSH, no scheme.
_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>[^\s]+)$")
_KNOWN_HOSTS: dict[str, Host] = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "bitbucket.org": "bitbucket",
    "gitea.com": "gitea",
    "codeberg.org": "gitea",
}
#: A self-hosted instance named after its product: github.example.com, gitlab.internal.
_NAMED_HOSTS: tuple[tuple[str, Host], ...] = (
    ("github", "github"),
    ("gitlab", "gitlab"),
    ("gitea", "gitea"),
)
SHORT_SHA = 7


def is_commit(revision: str) -> bool:
    """Whether ``revision`` is a commit SHA (not a branch, tag or chart version)."""
    return bool(_COMMIT.match(revision))


def short_sha(revision: str) -> str:
    """The first seven characters of a commit, as ``git log --oneline`` shows it; anything
    else unchanged."""
    return revision[:SHORT_SHA] if is_commit(revision) else revision


def web_url(repo_url: str) -> str:
    """The repository's ``https://`` address without credentials, port of SSH or ``.git``;
    empty for what is not a Git URL (a Helm or OCI repository)."""
    text = repo_url.strip()
    if not text or text.startswith("oci://"):
        return ""
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
            return ""
        host, path = parts.hostname, parts.path
        scheme = "http" if parts.scheme == "http" else "https"
        if parts.scheme == "https" and parts.port and parts.port != 443:
            host = f"{host}:{parts.port}"
    else:
        found = _SCP_LIKE.match(text)
        if found is None:
            return ""
        host, path, scheme = found["host"], found["path"], "https"
    path = path.strip("/").removesuffix(".git").strip("/")
    if not path:
        return ""
    return f"{scheme}://{host.lower()}/{path}"


def host_shape(web: str) -> Host | None:
    """Which host's page shapes a repository address follows, when known."""
    hostname = (urlsplit(web).hostname or "").lower()
    if hostname in _KNOWN_HOSTS:
        return _KNOWN_HOSTS[hostname]
    # Bitbucket Server (Data Center) pages have another shape: no link for it
    labels = hostname.split(".")
    for label, shape in _NAMED_HOSTS:
        if label in labels:
            return shape
    return None


def compare_url(repo_url: str, old: str, new: str) -> str:
    """The page comparing commit ``old`` with ``new``; empty without a known host shape or
    when either is not a commit."""
    web = web_url(repo_url)
    shape = host_shape(web) if web else None
    if shape is None or not (is_commit(old) and is_commit(new)) or old == new:
        return ""
    if shape == "gitlab":
        return f"{web}/-/compare/{old}...{new}"
    if shape == "bitbucket":
        return f"{web}/branches/compare/{new}%0D{old}"
    return f"{web}/compare/{old}...{new}"


def split_flux_revision(revision: str) -> tuple[str, str]:
    """``main@sha1:4f3c…`` → (``main``, ``4f3c…``); a commit alone, ``sha1:4f3c…``, and Flux's
    older ``main/4f3c…`` too; a bare SHA → ("", SHA); anything else → ("", revision)."""
    ref, sep, digest = revision.rpartition("@")
    if sep or revision.startswith(("sha1:", "sha256:")):
        _, _, sha = digest.partition(":")
        return ref, sha or digest
    ref, sep, sha = revision.rpartition("/")
    if sep and is_commit(sha):
        return ref, sha
    return "", revision
