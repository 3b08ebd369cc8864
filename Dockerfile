# dpabot service image (used by docker-compose.yml).
FROM python:3.11-slim
# poppler's pdftoppm compares a PDF a customer returns signed with their own tool to the one
# sent (signing/page_compare.py); pdfsig and qpdf let an operator check a PDF in the container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends poppler-utils qpdf \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY templates templates
COPY signing signing
COPY storage storage
RUN pip install --no-cache-dir .
# Gives libpq the database password from its Docker secret, then runs the command.
COPY storage/deploy/dpabot-entrypoint.sh /usr/local/bin/dpabot-entrypoint
RUN useradd --system --home /data dpabot && mkdir -p /data && chown dpabot /data
USER dpabot
ENTRYPOINT ["dpabot-entrypoint"]
CMD ["dpabot", "serve", "--config", "/config/dpabot.toml"]
