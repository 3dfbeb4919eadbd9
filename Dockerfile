FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY capacity ./capacity
COPY frontend ./frontend
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache .
ENV CAPACITY_FRONTEND_DIR=/app/frontend
EXPOSE 8000
CMD ["capacity", "serve"]
