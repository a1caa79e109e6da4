# syntax=docker/dockerfile:1
# The builder turns the project into one wheel; the runtime installs that wheel (and its
# dependencies, all published as binary wheels) into a slim image: no compilers, no pip cache,
# no source tree.

FROM python:3.12-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
# HOME and TMPDIR point at the emptyDir the Deployment mounts on /tmp: the root filesystem
# stays read-only. Bytecode is compiled at install time, so nothing is written at start.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    MALLOC_ARENA_MAX=2
RUN groupadd --gid 10001 agent \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin agent
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["highpeaks-agent"]
CMD ["run"]
