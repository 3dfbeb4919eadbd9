FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY capacity ./capacity
COPY frontend ./frontend
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache . \
    && useradd --system --home-dir /var/lib/capacity --create-home capacity
ENV CAPACITY_FRONTEND_DIR=/app/frontend \
    CAPACITY_DATA_DIR=/var/lib/capacity \
    PYTHONUNBUFFERED=1
# No secrets baked in: CAPACITY_SECRET_KEY, the database password and the metrics token come
# from the environment at run time (docs/operations.md).
USER capacity
EXPOSE 8000
CMD ["capacity", "serve"]
