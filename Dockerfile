# One image for every process of compose.yaml (web, worker, release), as the Procfile runs them.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY accounting accounting
COPY intacct intacct
COPY templates templates
COPY manage.py ./
COPY bin/serve bin/serve
# Editable, so the app finds templates/ beside its packages (BASE_DIR is /app).
RUN pip install --no-cache-dir -e .
# Static files are collected into the image (hashed names, compressed) with placeholder
# settings: collectstatic reads no secret and touches no database.
RUN DEBUG=false SECRET_KEY=collectstatic ALLOWED_HOSTS=localhost INTACCT_FERNET_KEYS=unused \
    python manage.py collectstatic --no-input -v0
# Uploaded carrier invoices go to /app/media (a volume in compose.yaml), writable by the app.
RUN useradd --system --no-create-home ledgerline && mkdir -p media && chown ledgerline media
USER ledgerline
EXPOSE 8000
CMD ["bin/serve"]
