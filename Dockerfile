# Plūsma: the engine and its REST API under gunicorn.
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
