# dpabot service image (used by docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY templates templates
COPY signing signing
COPY storage storage
RUN pip install --no-cache-dir .
RUN useradd --system --home /data dpabot && mkdir -p /data && chown dpabot /data
USER dpabot
ENTRYPOINT []
CMD ["dpabot", "serve", "--config", "/config/dpabot.toml"]
