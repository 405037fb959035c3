# syntax=docker/dockerfile:1
# The scheduler daemon: `scheduler run` (sync, ticks, HTTP on :8080). State lives in /app/var (a
# volume): the SQLite database, the Maildir, the feed-link key. Build: docker build -t obligation-scheduler .

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# Dependencies first, every one pinned with its hash, so that this layer is reused across code changes.
COPY deploy/requirements.txt deploy/requirements.txt
RUN /opt/venv/bin/pip install --require-hashes -r deploy/requirements.txt
COPY pyproject.toml setup.py README.md ./
COPY scheduler ./scheduler
COPY templates ./templates
COPY locale ./locale
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SCHEDULER_HTTP_HOST=0.0.0.0 \
    SCHEDULER_HTTP_PORT=8080
RUN groupadd --system scheduler && useradd --system --gid scheduler --home-dir /app --shell /usr/sbin/nologin scheduler
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=scheduler:scheduler obligations.toml ./
RUN mkdir -p /app/var && chown scheduler:scheduler /app/var
USER scheduler
VOLUME ["/app/var"]
EXPOSE 8080
# Listening beyond loopback needs the dashboard credential: pass SCHEDULER_ADMIN_PASSWORD_FILE
# (a mounted secret) or SCHEDULER_ADMIN_PASSWORD when starting the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["scheduler"]
CMD ["run"]
