#!/usr/bin/env bash
# Makes every secret docker-compose.yml mounts, in deploy/compose/secrets/ (or $SECRETS_DIR):
#   db_password                  the TimescaleDB password (server and centre)
#   mqtt-<user>.password         one broker password per user of deploy/mosquitto/vigil.acl (centre and each edge)
#   mosquitto.passwd             those users, hashed by mosquitto_passwd (the broker's password_file)
#   ca.crt, ca.key               a private CA for the broker's TLS listener (ca.key is never mounted)
#   mqtt-server.crt/.key         the broker's certificate for $MQTT_HOSTNAMES (default: mosquitto,localhost)
# Idempotent: what exists is kept (rerun it after adding a node to the ACL: the node gets a password, the others keep
# theirs). Needs openssl, and mosquitto_passwd or docker (it then runs mosquitto_passwd from the broker's image).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${SECRETS_DIR:-$here/secrets}"
acl="${ACL_FILE:-$here/../mosquitto/vigil.acl}"
hostnames="${MQTT_HOSTNAMES:-mosquitto,localhost}"
mosquitto_image="${MOSQUITTO_IMAGE:-eclipse-mosquitto:2.0.20}"

mkdir -p "$out"
# The folder keeps the secrets private on the host; the files themselves must be readable by the containers'
# unprivileged users (Compose mounts a file secret with its host owner and mode): node (1000), mosquitto (1883),
# postgres (70).
chmod 0700 "$out"

password() { openssl rand -hex 24; }

[[ -s "$out/db_password" ]] || password >"$out/db_password"

mapfile -t users < <(awk '$1 == "user" { print $2 }' "$acl")
((${#users[@]})) || {
  echo "no 'user' lines in $acl" >&2
  exit 1
}
plain="$(mktemp "$out/.passwd.XXXXXX")"
trap 'rm -f "$plain"' EXIT
for user in "${users[@]}"; do
  file="$out/mqtt-$user.password"
  [[ -s "$file" ]] || password >"$file"
  printf '%s:%s\n' "$user" "$(cat "$file")" >>"$plain"
done
# `-U` hashes a "user:password" file in place: no password on a command line.
if command -v mosquitto_passwd >/dev/null 2>&1; then
  mosquitto_passwd -U "$plain"
else
  docker run --rm -v "$out:/secrets" "$mosquitto_image" mosquitto_passwd -U "/secrets/$(basename "$plain")"
fi
mv -f "$plain" "$out/mosquitto.passwd"

if [[ ! -s "$out/ca.crt" ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj '/CN=Vigil broker CA' \
    -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi
if [[ ! -s "$out/mqtt-server.crt" ]]; then
  san="$(tr ',' '\n' <<<"$hostnames" | sed -E 's/^(([0-9]+\.){3}[0-9]+)$/IP:\1/; t; s/^/DNS:/' | paste -sd, -)"
  openssl req -newkey rsa:3072 -nodes -subj "/CN=${hostnames%%,*}" \
    -keyout "$out/mqtt-server.key" -out "$out/mqtt-server.csr" 2>/dev/null
  openssl x509 -req -in "$out/mqtt-server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days 825 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") -out "$out/mqtt-server.crt" 2>/dev/null
  rm -f "$out/mqtt-server.csr" "$out/ca.srl"
fi

chmod 0644 "$out"/db_password "$out"/mqtt-*.password "$out"/mosquitto.passwd "$out"/ca.crt "$out"/mqtt-server.*
chmod 0600 "$out/ca.key"
echo "secrets in $out: db_password, mosquitto.passwd (${users[*]}), ca.crt, mqtt-server.crt/.key"
