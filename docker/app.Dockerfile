# syntax=docker/dockerfile:1
#
# Acordo application image: the ASGI app (`acordo serve`, which also serves the
# Rasa custom-action webhook at /actions/webhook) and the background worker
# (`acordo worker`, same image, other command).
#
# Build from the repository root (the context must be the repo root):
#   docker build -f docker/app.Dockerfile -t acordo-app .
# The build context is filtered by docker/app.Dockerfile.dockerignore (an
# allow-list: pyproject.toml, README.md, bot/, policies/, templates/).
# Needs BuildKit (the default builder since Docker 23; Compose v2 uses it).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------- build stage
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that a code change does not
# reinstall them (this layer is rebuilt only when pyproject.toml changes).
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# Then the package itself (not editable: the runtime stage has no source tree).
COPY . ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps . \
 && acordo --help > /dev/null

# -------------------------------------------------------------- runtime stage
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    ACORDO_HOST=0.0.0.0 \
    ACORDO_PORT=8000 \
    ACORDO_POLICIES_DIR=/app/policies \
    ACORDO_TEMPLATES_DIR=/app/templates

RUN groupadd --system --gid 10001 acordo \
 && useradd --system --uid 10001 --gid acordo --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin acordo

WORKDIR /app

COPY --from=build /opt/venv /opt/venv
# Policies and templates are read-only for the app user (owned by root).
COPY policies/ /app/policies/
COPY templates/ /app/templates/
# var/ is the only writable place (the default SQLite file lives there when
# ACORDO_DATABASE_URL is not set; with PostgreSQL it stays empty).
RUN mkdir -p /app/var && chown acordo:acordo /app/var

USER 10001:10001

EXPOSE 8000

# Liveness only (/healthz). /readyz (database and Rasa reachable) is for a load
# balancer or an orchestrator's readiness probe. The worker overrides this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ACORDO_PORT', '8000'), timeout=4)"]

# `acordo serve` applies the database migrations itself before it listens.
CMD ["acordo", "serve"]
