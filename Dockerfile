# syntax=docker/dockerfile:1
# The builder turns the project into one wheel; the runtime installs that wheel into a slim
# image (no compilers, no pip cache, no source tree) on top of exactly the dependencies pinned
# in requirements.lock (`make lock`): every version and file hash fixed, binary wheels only, so
# two builds of one commit install the same bytes.

FROM python:3.12-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && cp requirements.lock /wheels/

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
# The lock first (it holds the `otel` extra too), then the project alone; `pip check` fails
# the build if the lock no longer satisfies what the project declares.
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary=:all: \
        -r /wheels/requirements.lock \
    && pip install --no-cache-dir --no-deps /wheels/*.whl \
    && pip check \
    && rm -rf /wheels
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["highpeaks-agent"]
CMD ["run"]
