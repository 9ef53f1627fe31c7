"""gunicorn settings for production; every value can be overridden from the environment."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str((os.cpu_count() or 1) * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# TLS in the process itself, where no proxy terminates it in front (both or neither).
certfile = os.environ.get("GUNICORN_CERTFILE") or None
keyfile = os.environ.get("GUNICORN_KEYFILE") or None
