"""Fixtures of the /assist tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.support.loopback import serve
from tests.unit.http.reviews import FakeReviews


@pytest.fixture
async def reviews() -> AsyncIterator[tuple[FakeReviews, str]]:
    fake = FakeReviews()
    app = web.Application()
    app.router.add_post("/apis/authentication.k8s.io/v1/tokenreviews", fake.token_review)
    app.router.add_post("/apis/authorization.k8s.io/v1/subjectaccessreviews", fake.access_review)
    async with serve(app) as url:
        yield fake, url
