#!/bin/sh
# Entrypoint of dpabot's containers (and of their health check): libpq reads the database
# password from its Docker secret, so neither the URL nor compose's environment carries it.
set -eu
if [ -n "${DPABOT_DATABASE_PASSWORD_FILE:-}" ]; then
  if [ ! -r "$DPABOT_DATABASE_PASSWORD_FILE" ]; then
    echo "The database password file $DPABOT_DATABASE_PASSWORD_FILE cannot be read; make it with storage/deploy/example/make-secrets.sh." >&2
    exit 1
  fi
  PGPASSWORD=$(cat "$DPABOT_DATABASE_PASSWORD_FILE")
  export PGPASSWORD
fi
exec "$@"
