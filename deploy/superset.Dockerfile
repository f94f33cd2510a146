FROM python:3.11-slim
WORKDIR /opt/ggzy
COPY requirements/superset.lock requirements/superset.lock
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache -r requirements/superset.lock
