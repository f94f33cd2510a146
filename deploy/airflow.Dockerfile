FROM python:3.11-slim
WORKDIR /opt/ggzy
COPY requirements/pipeline.lock requirements/pipeline.lock
RUN pip install --no-cache-dir uv && uv pip install --system --no-cache -r requirements/pipeline.lock
COPY pyproject.toml ./
COPY plugins ./plugins
RUN uv pip install --system --no-deps -e .
ENV AIRFLOW_HOME=/opt/ggzy/state/airflow
