#!/bin/sh
# One-shot job of docker-compose.yml (service auth-bootstrap, in the token service's image).
#
# Registers one org client per org in ORG_CLIENTS ("<org>:<9-digit org number> ...") with the token service's
# CLI, directly in its MongoDB store (MONGODB_URL), and leaves what the CLI prints, the client id and its secret,
# in OUT_DIR/<org>.json. The app services read that file (ORG_CLIENT_FILE) and exchange it for an org token
# at every start. Runs on every `docker compose up`: an org whose file is there and whose client is still
# registered is left alone; otherwise its client is created afresh, since a secret is shown only once.
set -eu
CLI="node dist/cli.js" # run from the image's working directory, /app/services/auth
SCOPES="altinn:serviceowner/instances.read altinn:serviceowner/instances.write"
umask 077
mkdir -p "$OUT_DIR"
for entry in $ORG_CLIENTS; do
  org=${entry%%:*}
  number=${entry#*:}
  id="$org-apps"
  if [ -s "$OUT_DIR/$org.json" ] && $CLI clients get "$id" >/dev/null 2>&1; then
    echo "$org: client $id is registered"
    continue
  fi
  $CLI clients remove "$id" >/dev/null 2>&1 || true
  $CLI clients add --kind org --org "$org" --org-number "$number" --id "$id" --name "$org apps (docker compose)" --scope "$SCOPES" >"$OUT_DIR/$org.json.new"
  mv "$OUT_DIR/$org.json.new" "$OUT_DIR/$org.json"
  echo "$org: registered client $id"
done
