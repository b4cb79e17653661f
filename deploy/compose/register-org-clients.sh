#!/bin/sh
# One-shot job of docker-compose.yml (service auth-bootstrap, in the token service's image).
#
# Registers each app service's own client, one per app in APP_CLIENTS ("<org>/<app>:<9-digit org number> ..."),
# with the token service's CLI, directly in its MongoDB store (MONGODB_URL): an org client for that one app
# (--app), whose tokens name the app, so storage lets the app act for parties in it and in no other app. What the
# CLI prints, the client id and its secret, goes to OUT_DIR/<org>-<app>.json. The app service reads that file
# (ORG_CLIENT_FILE) and exchanges it for its token by client credentials. Runs on every `docker compose up`: an
# app whose file is there and whose client is still registered is left alone; otherwise its client is created
# afresh, since a secret is shown only once.
set -eu
CLI="node dist/cli.js" # run from the image's working directory, /app/services/auth
SCOPES="altinn:serviceowner/instances.read altinn:serviceowner/instances.write"
umask 077
mkdir -p "$OUT_DIR"
for entry in $APP_CLIENTS; do
  app=${entry%%:*}
  number=${entry#*:}
  org=${app%%/*}
  id="$org-${app#*/}"
  if [ -s "$OUT_DIR/$id.json" ] && $CLI clients get "$id" >/dev/null 2>&1; then
    echo "$app: client $id is registered"
    continue
  fi
  $CLI clients remove "$id" >/dev/null 2>&1 || true
  $CLI clients add --kind org --org "$org" --org-number "$number" --app "$app" --id "$id" --name "$app app service (docker compose)" --scope "$SCOPES" >"$OUT_DIR/$id.json.new"
  mv "$OUT_DIR/$id.json.new" "$OUT_DIR/$id.json"
  echo "$app: registered client $id"
done
