# syntax=docker/dockerfile:1
#
# Rasa Open Source 3.6.21 server for Acordo, with the model trained at build
# time from dialogs/ and the production endpoints (SQL tracker store on
# PostgreSQL, Redis lock store, action server = the Acordo app).
#
# Build from the repository root (the context must be the repo root):
#   docker build -f docker/rasa.Dockerfile -t acordo-rasa .
# The build context is filtered by docker/rasa.Dockerfile.dockerignore.
#
# Runtime environment (see docker/rasa-endpoints.yml and docker/.env.example):
#   RASA_TOKEN (required)                     token of Rasa's HTTP API
#   ACORDO_ACTION_ENDPOINT_URL, ACORDO_ACTION_TOKEN (required)
#   RASA_DB_HOST, RASA_DB_PORT, RASA_DB_NAME, RASA_DB_USER, RASA_DB_PASSWORD,
#   RASA_DB_LOGIN_DB                          SQL tracker store (PostgreSQL)
#   RASA_REDIS_HOST, RASA_REDIS_PORT, RASA_REDIS_DB, RASA_REDIS_PASSWORD
#                                             Redis lock store

ARG PYTHON_IMAGE=python:3.10-slim-bookworm

# ------------------------------------------------------------ base: rasa + user
FROM ${PYTHON_IMAGE} AS base

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLCONFIGDIR=/tmp/matplotlib

RUN python -m venv /opt/venv

# rasa 3.6.21 depends on psycopg2-binary (SQL tracker store on PostgreSQL) and
# redis (lock store), so no system libraries or compiler are needed. The
# constraints file pins the dependency tree to versions known to work together.
COPY docker/rasa-constraints.txt /tmp/rasa-constraints.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -c /tmp/rasa-constraints.txt rasa==3.6.21 \
 && python -c "import psycopg2, redis, rasa; assert rasa.__version__ == '3.6.21', rasa.__version__"

RUN groupadd --system --gid 10001 rasa \
 && useradd --system --uid 10001 --gid rasa --create-home --home-dir /home/rasa \
        --shell /usr/sbin/nologin rasa

# ------------------------------------------------------------- train the model
FROM base AS train

WORKDIR /build
COPY --chown=rasa:rasa dialogs/ /build/
COPY --chown=rasa:rasa docker/rasa-endpoints.yml /build/endpoints.production.yml
RUN chown rasa:rasa /build
USER 10001:10001

# The production endpoints must call the same action server as
# dialogs/endpoints.yml: fail the build if their action_endpoint blocks differ.
RUN python -c "import yaml; \
dev = yaml.safe_load(open('endpoints.yml'))['action_endpoint']; \
prod = yaml.safe_load(open('endpoints.production.yml'))['action_endpoint']; \
assert dev == prod, 'action_endpoint differs: dialogs/endpoints.yml %r, docker/rasa-endpoints.yml %r' % (dev, prod)"

RUN rasa train --fixed-model-name acordo --out models \
 && test -f models/acordo.tar.gz

# ------------------------------------------------------------------- runtime
FROM base AS runtime

WORKDIR /app
# Read-only for the rasa user: the Rasa project, the production endpoints and
# the trained model (Rasa's training cache stays in the train stage).
COPY dialogs/ /app/
COPY docker/rasa-endpoints.yml /app/endpoints.production.yml
COPY --from=train /build/models/acordo.tar.gz /app/models/acordo.tar.gz

ENV RASA_DB_HOST=postgres \
    RASA_DB_PORT=5432 \
    RASA_DB_NAME=rasa \
    RASA_DB_USER=acordo \
    RASA_DB_LOGIN_DB=acordo \
    RASA_REDIS_HOST=redis \
    RASA_REDIS_PORT=6379 \
    RASA_REDIS_DB=1 \
    ACORDO_ACTION_ENDPOINT_URL=http://app:8000/actions/webhook

USER 10001:10001

EXPOSE 5005

# Healthy once the model is loaded and the API token works (/status answers 409
# while no model is loaded, 401 with a wrong token).
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=5 \
    CMD ["python", "-c", "import os, urllib.parse, urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/status?token=' + urllib.parse.quote(os.environ['RASA_TOKEN'], safe=''), timeout=4)"]

# RASA_REDIS_PASSWORD may be unset (no Redis AUTH); Rasa needs it defined.
CMD ["sh", "-c", "export RASA_REDIS_PASSWORD=\"${RASA_REDIS_PASSWORD-}\"; exec rasa run --enable-api --auth-token \"${RASA_TOKEN:?RASA_TOKEN must be set}\" -i 0.0.0.0 -p 5005 --model models/acordo.tar.gz --endpoints endpoints.production.yml --credentials credentials.yml"]
