#!/bin/sh
# Makes the secret files docker-compose.yml hands to its services (Docker secrets), once:
# an existing file is kept, so running it again never changes a password in use.
#   storage/deploy/example/make-secrets.sh [DIR] [SLUG=ADDRESS ...]
# DIR defaults to ./secrets (beside docker-compose.yml); each SLUG=ADDRESS is a tenant's
# mailbox (default: example=dpa@example.be) and gets DIR/SLUG_imap_password, and a line in
# DIR/mailbox_users (Dovecot's password file, rewritten from those passwords every run).
# The folder is 0700 (only you); the files in it 0644 because the services read them as
# their own unprivileged users (Dovecot's auth process, dpabot), through bind mounts.
set -eu
dir=${1:-./secrets}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- example=dpa@example.be

command -v openssl >/dev/null || { echo "make-secrets.sh needs openssl." >&2; exit 1; }
mkdir -p "$dir"
chmod 0700 "$dir"
umask 022

secret() {  # a new random password in $dir/$1, unless the file is there already
  if [ ! -s "$dir/$1" ]; then
    openssl rand -hex 24 | tr -d '\n' >"$dir/$1"
    chmod 0644 "$dir/$1"
    echo "made $dir/$1"
  fi
}

secret postgres_password      # the database's superuser (stays inside the postgres container)
secret dpabot_db_password     # dpabot's owner role (storage/deploy/postgres-init.sh)
# The upstream relay's login (RELAYHOST_USERNAME in .env); unused when mail goes out directly.
[ -e "$dir/relay_password" ] || { : >"$dir/relay_password"; chmod 0644 "$dir/relay_password"; }

users=$(mktemp "$dir/.mailbox_users.XXXXXX")
for pair in "$@"; do
  slug=${pair%%=*}
  address=${pair#*=}
  case "$slug:$address" in
    *=* | :* | *: | *[!A-Za-z0-9@._+:-]*)
      rm -f "$users"
      echo "Give each mailbox as SLUG=ADDRESS, e.g. example=dpa@example.be (got '$pair')." >&2
      exit 2 ;;
  esac
  secret "${slug}_imap_password"
  hash=$(openssl passwd -6 -stdin <"$dir/${slug}_imap_password")
  printf '%s:{SHA512-CRYPT}%s\n' "$address" "$hash" >>"$users"
done
chmod 0644 "$users"
mv "$users" "$dir/mailbox_users"
echo "wrote $dir/mailbox_users ($# mailbox(es))"
