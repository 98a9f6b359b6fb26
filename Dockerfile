# One image for every role of the service: api (gunicorn), worker, fitness worker, beat and the migrate step.
# Reproducible: every package comes from requirements.lock (exact versions, hashes checked, the build
# backend included); scripts/lock.sh regenerates it and CI checks that it matches pyproject.toml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    INCIDENT_ENGINE_INSTANCE=/app/instance

WORKDIR /app
COPY requirements.lock /app/requirements.lock
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY . /app
# editable: the service reads its bundled procedures (bpmn/) and the Locust scenario (loadtests/) from /app
RUN pip install --no-deps --no-build-isolation -e . \
    && useradd --create-home --uid 10001 incident \
    && mkdir -p /app/instance \
    && chown incident /app/instance

USER incident
EXPOSE 8000
CMD ["incident-engine", "serve", "--host", "0.0.0.0", "--port", "8000"]
