// Entry point of the app service image (copied next to dist/ as services/app/entrypoint.mjs).
//
// The app service registers its app in storage at start-up with an org token, which it only takes ready-made
// (ORG_TOKEN). A token expires, a client secret does not, so the image gets the token here, then starts the
// bundled service in this process:
//
//   ORG_TOKEN                               used as it is
//   ORG_CLIENT_ID + ORG_CLIENT_SECRET       client credentials grant at ORG_TOKEN_URL
//   ORG_CLIENT_FILE                         the same, with the id and secret from a JSON file: what
//                                           `node dist/cli.js clients add ...` of the token service prints
//                                           ({"client": {"clientId"}, "clientSecret"}), or {"clientId", "clientSecret"}
//   none of these                           no registration; storage must know the app already
//
// The token service may still be starting: unreachable, 5xx and 429 answers are retried for a minute.
// A refused client (4xx) stops the start at once. The secret and the token are never printed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const RETRY_FOR_MS = 60_000;
const log = (msg) => console.error(JSON.stringify({ level: 30, time: Date.now(), service: 'app-entrypoint', msg }));

function fail(message) {
  console.error(JSON.stringify({ level: 60, time: Date.now(), service: 'app-entrypoint', msg: message }));
  process.exit(1);
}

/** The org client's id and secret, from the environment or ORG_CLIENT_FILE; undefined when none is configured. */
function orgClient(env) {
  if (env.ORG_CLIENT_ID || env.ORG_CLIENT_SECRET) {
    if (!env.ORG_CLIENT_ID || !env.ORG_CLIENT_SECRET) fail('set both ORG_CLIENT_ID and ORG_CLIENT_SECRET');
    return { clientId: env.ORG_CLIENT_ID, clientSecret: env.ORG_CLIENT_SECRET, from: 'ORG_CLIENT_ID' };
  }
  if (!env.ORG_CLIENT_FILE) return undefined;
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(env.ORG_CLIENT_FILE, 'utf8'));
  } catch (error) {
    fail(`ORG_CLIENT_FILE ${env.ORG_CLIENT_FILE}: ${error.code ?? error.message}`);
  }
  const clientId = parsed?.client?.clientId ?? parsed?.clientId;
  const clientSecret = parsed?.clientSecret;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
    fail(`ORG_CLIENT_FILE ${env.ORG_CLIENT_FILE} has no clientId and clientSecret`);
  }
  return { clientId, clientSecret, from: env.ORG_CLIENT_FILE };
}

/** client_credentials with client_secret_post; retries while the token service is not there yet. */
async function fetchToken(tokenUrl, { clientId, clientSecret }) {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let attempt = 1; ; attempt++) {
    let problem;
    try {
      const response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok && typeof body.access_token === 'string') return body.access_token;
      problem = `${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim();
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        fail(`the token service refused org client ${clientId}: ${problem}`);
      }
    } catch (error) {
      problem = error.cause?.code ?? error.message;
    }
    if (Date.now() >= deadline) fail(`no org token from ${tokenUrl} after ${attempt} attempts: ${problem}`);
    log(`no org token from ${tokenUrl} yet (${problem}); retrying`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * attempt, 5000)));
  }
}

const env = process.env;
if (!env.ORG_TOKEN) {
  const client = orgClient(env);
  if (client) {
    if (!env.ORG_TOKEN_URL) fail('ORG_TOKEN_URL (the token endpoint, e.g. http://auth:5100/authentication/api/v1/token) is required with an org client');
    env.ORG_TOKEN = await fetchToken(env.ORG_TOKEN_URL, client);
    log(`org token for client ${client.clientId} (from ${client.from}) obtained; starting the app service`);
  } else {
    log('no ORG_TOKEN, ORG_CLIENT_ID/ORG_CLIENT_SECRET or ORG_CLIENT_FILE: the app is not registered in storage at start-up');
  }
}

createRequire(import.meta.url)('./dist/server.js');
