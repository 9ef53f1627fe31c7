# The bank's production image: gunicorn under a non-root user, static files collected,
# a health check against /healthz (which checks the database). The same image runs the other roles
# with another command (docs/deploy.md): `python manage.py db_worker --queue-name default` (workers)
# and `python manage.py run_scheduler` (periodic jobs); give those `--no-healthcheck`.
FROM python:3.12-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN useradd --create-home --uid 10001 bank

COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-0123456789012345678901234567890 \
    DJANGO_ALLOWED_HOSTS=localhost REDIS_URL=redis://collectstatic-only python manage.py collectstatic --no-input

USER bank
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
