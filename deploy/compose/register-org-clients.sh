#!/bin/sh
# One-shot job of docker-compose.yml (service auth-bootstrap, in the token service's image).
#
# Registers each app service's own client, one per app in APP_CLIENTS ("<org>/<app>:<9-digit org number> ..."),
# with the token service's CLI, directly in its MongoDB store (MONGODB_URL): an org client for that one app
# (--app), whose tokens name the app, so storage lets the app act for parties in it and in no other app. What the
# CLI prints, the client id and its secret, goes to OUT_DIR/<org>-<app>.json. The app service reads that file
# (ORG_CLIENT_FILE) and exchanges it for its token by client credentials. Runs on every `docker compose up`: an
# app whose file is there and whose client is still registered is left alone; otherwise its client is created
# afresh, since a secret is shown only once. EVENTS_CLIENT ("<org>:<org number>"), if set, registers the events
# service's own client the same way: an org client with only the scope altinn:storage/events.feed, in
# OUT_DIR/platform-events.json (FEED_CLIENT_FILE of the events service).
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

if [ -n "${EVENTS_CLIENT:-}" ]; then
  org=${EVENTS_CLIENT%%:*}
  number=${EVENTS_CLIENT#*:}
  id="platform-events"
  if [ -s "$OUT_DIR/$id.json" ] && $CLI clients get "$id" >/dev/null 2>&1; then
    echo "events service: client $id is registered"
  else
    $CLI clients remove "$id" >/dev/null 2>&1 || true
    $CLI clients add --kind org --org "$org" --org-number "$number" --id "$id" --name "events service (docker compose)" --scope "altinn:storage/events.feed" >"$OUT_DIR/$id.json.new"
    mv "$OUT_DIR/$id.json.new" "$OUT_DIR/$id.json"
    echo "events service: registered client $id"
  fi
fi
