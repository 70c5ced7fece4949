# Plūsma: the engine, its REST API and the staff web UI under gunicorn.

# The front-end packages (bpmn-js, axe-core, htmx) from the npm registry, exactly as package-lock.json
# pins them; the app serves their built files from node_modules (web/vendor.py). No build step.
FROM node:20-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLUSMA_HOME=/app \
    PLUSMA_DATA_DIR=/data

WORKDIR /app

# Locked dependencies first, so code changes don't reinstall them.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock
COPY --from=frontend /build/node_modules ./node_modules

COPY pyproject.toml README.md ./
COPY engine ./engine
COPY web ./web
COPY migrations ./migrations
COPY processes ./processes
COPY forms ./forms
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /data --create-home plusma

USER 10001
EXPOSE 8080
VOLUME ["/data"]

# Upgrade the schema and deploy the shipped processes, then serve with gunicorn.
CMD ["sh", "-c", "plusma prepare && exec gunicorn --bind 0.0.0.0:8080 --workers 2 --threads 8 --worker-class gthread --no-control-socket --access-logfile - web.wsgi:app"]
