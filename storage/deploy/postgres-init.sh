#!/bin/sh
# Runs once, as the postgres image's superuser, when the database volume is new: dpabot's
# owner role is NOT a superuser. It owns the database and migrates it; migration 0009 creates
# the role the service acts as (dpabot_app, bound by row-level security). CREATEROLE lets the
# owner create that role and grant it to itself (PostgreSQL 16+). Its password comes from the
# Docker secret named by DPABOT_DB_PASSWORD_FILE, never from the environment.
set -eu
owner_password=$(cat "${DPABOT_DB_PASSWORD_FILE:?set DPABOT_DB_PASSWORD_FILE to the password file}")
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$owner_password" <<'SQL'
CREATE ROLE dpabot LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE PASSWORD :'owner_password';
CREATE DATABASE dpabot OWNER dpabot;
SQL
