# One image for every role of the service: api (gunicorn), worker, beat and the migrate step.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    INCIDENT_ENGINE_INSTANCE=/app/instance

WORKDIR /app
COPY . /app
RUN pip install -e . \
    && useradd --create-home --uid 10001 incident \
    && mkdir -p /app/instance \
    && chown incident /app/instance

USER incident
EXPOSE 8000
CMD ["incident-engine", "serve", "--host", "0.0.0.0", "--port", "8000"]
