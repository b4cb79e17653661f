/**
 * Administers the token service: register, list and remove clients, list and rotate signing keys.
 *
 *   pnpm exec tsx services/auth/src/cli.ts <command> [options]      (from the repository root)
 *
 * Works on the store and keyring the environment names (same variables as the service), or, with --url,
 * through the admin API of a running service (ADMIN_API_KEY from the environment). The embedded store and
 * the keyring file can only be changed directly while the service is stopped (DATA_DIR is locked).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { isDomainError } from '@forms/contracts';
import { createClientStore, DataDirLock, openKeyring, type ClientStore } from './adapters';
import { ADMIN_PREFIX, loadAuthConfig, type AuthConfig } from './config';
import { ClientRegistry, type ClientRegistration, type ClientView, type RegisteredClient } from './domain/clients';
import type { KeyInfo, RotationResult } from './domain/keyring';

const USAGE = `Usage: cli <command> [options]

Commands:
  clients list
  clients get <clientId>
  clients add --kind org --org <org> --org-number <9 digits> [--app <org>/<app>] --scope "<scopes>" [--id <clientId>] [--name <text>] [--public-key <file>]
  clients add --kind system --party-id <id> [--system-id <id>] --scope "<scopes>" [...]
  clients add --kind user --party-id <id> --user-id <id> [--auth-level 0-4] --scope "<scopes>" [...]
  clients remove <clientId>
  keys list
  keys rotate

--public-key: a file with the client's public key (PEM or JWK JSON); the client then signs assertions
(private_key_jwt). Without it a client secret is generated and printed once.
--url <base URL>: go through the admin API of a running service, with ADMIN_API_KEY from the environment.
Otherwise the store and keyring named by the environment are used directly (MONGODB_URL, DATA_DIR, ...).`;

/** The operations, done either directly on the store or through the admin API. */
interface Backend {
  register(registration: ClientRegistration): Promise<RegisteredClient>;
  list(): Promise<ClientView[]>;
  get(clientId: string): Promise<ClientView>;
  remove(clientId: string): Promise<void>;
  keys(): Promise<{ rotatable: boolean; keys: KeyInfo[] }>;
  rotate(): Promise<RotationResult>;
  close(): Promise<void>;
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text) };

/** Runs one command; resolves to the process exit code. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, io: CliIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        id: { type: 'string' },
        name: { type: 'string' },
        kind: { type: 'string' },
        org: { type: 'string' },
        'org-number': { type: 'string' },
        app: { type: 'string' },
        'party-id': { type: 'string' },
        'user-id': { type: 'string' },
        'system-id': { type: 'string' },
        'auth-level': { type: 'string' },
        scope: { type: 'string' },
        'public-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group, command, argument] = positionals;
  if (values.help || group === undefined) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  const mistake = misuseOf(positionals, values);
  if (mistake !== undefined) {
    io.err(`${mistake}\n\n${USAGE}`);
    return 2;
  }

  let backend: Backend | undefined;
  try {
    backend = values.url !== undefined ? httpBackend(values.url, env) : await directBackend(loadAuthConfig(env), group);
    const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));
    switch (`${group} ${command ?? ''}`) {
      case 'clients list':
        print({ clients: await backend.list() });
        return 0;
      case 'clients get':
        print(await backend.get(requiredArgument(argument, 'clientId')));
        return 0;
      case 'clients add': {
        const registered = await backend.register(registrationOf(values));
        print(registered);
        if (registered.clientSecret !== undefined) io.err('The client secret is shown only this once; it is stored hashed.');
        return 0;
      }
      case 'clients remove':
        await backend.remove(requiredArgument(argument, 'clientId'));
        io.out(`removed ${argument}`);
        return 0;
      case 'keys list':
        print(await backend.keys());
        return 0;
      case 'keys rotate':
        print(await backend.rotate());
        return 0;
      default:
        io.err(`unknown command "${positionals.join(' ')}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    io.err(`error: ${isDomainError(error) ? `${error.code}: ${error.message}` : (error as Error).message}`);
    return 1;
  } finally {
    await backend?.close();
  }
}

const REGISTRATION_OPTIONS = ['id', 'name', 'kind', 'org', 'org-number', 'party-id', 'user-id', 'system-id', 'auth-level', 'scope', 'public-key'];

/** What each command takes besides --url: its positional arguments (by name) and options. */
const COMMANDS: Record<string, { arguments: string[]; options: string[] }> = {
  'clients list': { arguments: [], options: [] },
  'clients get': { arguments: ['clientId'], options: [] },
  'clients add': { arguments: [], options: REGISTRATION_OPTIONS },
  'clients remove': { arguments: ['clientId'], options: [] },
  'keys list': { arguments: [], options: [] },
  'keys rotate': { arguments: [], options: [] },
};

/**
 * Why the command line is not one the CLI understands, or undefined. A stray argument is refused rather than
 * ignored: pasting the usage line with its `[--id <clientId>]` must not register a client with a random id.
 */
function misuseOf(positionals: string[], values: Record<string, unknown>): string | undefined {
  const [group, command, ...rest] = positionals;
  const name = `${group} ${command ?? ''}`;
  const spec = COMMANDS[name];
  if (!spec) return `unknown command "${positionals.join(' ')}"`;
  if (rest.length > spec.arguments.length) return `unexpected argument "${rest[spec.arguments.length]}" for "${name}"`;
  if (rest.length < spec.arguments.length) return `"${name}" needs <${spec.arguments[rest.length]}>`;
  const misplaced = Object.keys(values).find((option) => option !== 'url' && option !== 'help' && !spec.options.includes(option));
  return misplaced === undefined ? undefined : `--${misplaced} does not apply to "${name}"`;
}

function requiredArgument(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

function registrationOf(values: Record<string, string | boolean | undefined>): ClientRegistration {
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const kind = text('kind');
  if (kind !== 'org' && kind !== 'system' && kind !== 'user') throw new Error('--kind must be org, system or user');
  const scope = text('scope');
  if (scope === undefined) throw new Error('--scope is required (space-separated scopes)');
  const authLevel = text('auth-level');
  const publicKeyFile = text('public-key');
  const optional = <K extends keyof ClientRegistration>(key: K, value: ClientRegistration[K] | undefined) => (value !== undefined ? { [key]: value } : {});
  return {
    kind,
    scopes: scope.split(/\s+/).filter((item) => item !== ''),
    ...optional('clientId', text('id')),
    ...optional('name', text('name')),
    ...optional('org', text('org')),
    ...optional('orgNumber', text('org-number')),
    ...optional('app', text('app')),
    ...optional('partyId', text('party-id')),
    ...optional('userId', text('user-id')),
    ...optional('systemId', text('system-id')),
    ...optional('authLevel', authLevel !== undefined ? Number(authLevel) : undefined),
    ...optional('publicKey', publicKeyFile !== undefined ? readPublicKey(publicKeyFile) : undefined),
  };
}

function readPublicKey(path: string): JWK | string {
  const content = readFileSync(path, 'utf8').trim();
  return content.startsWith('{') ? (JSON.parse(content) as JWK) : content;
}

/** Directly on the configured store and keyring; DATA_DIR state is locked while in use. */
async function directBackend(config: AuthConfig, group: string): Promise<Backend> {
  const needsStore = group === 'clients';
  const touchesDataDir = needsStore ? !config.MONGODB_URL : config.signingKeyPem === undefined;
  const lock = touchesDataDir ? await DataDirLock.acquire(config.DATA_DIR) : undefined;
  let store: ClientStore | undefined;
  try {
    if (needsStore) {
      store = createClientStore(config);
      await store.init();
    }
    const registry = store ? new ClientRegistry(store) : undefined;
    const clients = (): ClientRegistry => {
      if (!registry) throw new Error('not a clients command');
      return registry;
    };
    const keyring = needsStore ? undefined : await openKeyring(config);
    const keys = () => {
      if (!keyring) throw new Error('not a keys command');
      return keyring;
    };
    const opened = store;
    return {
      register: (registration) => clients().register(registration),
      list: () => clients().list(),
      get: (clientId) => clients().get(clientId),
      remove: (clientId) => clients().remove(clientId),
      keys: async () => ({ rotatable: keys().rotatable, keys: keys().describe() }),
      rotate: () => keys().rotate(),
      close: async () => {
        await opened?.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await store?.close().catch(() => undefined);
    await lock?.release();
    throw error;
  }
}

/** Through the admin API of a running service. */
function httpBackend(baseUrl: string, env: Record<string, string | undefined>): Backend {
  const apiKey = env.ADMIN_API_KEY;
  if (!apiKey) throw new Error('--url needs ADMIN_API_KEY in the environment');
  const base = `${baseUrl.replace(/\/+$/, '')}${ADMIN_PREFIX}`;
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok) {
      const problem = parsed as { code?: string; detail?: string; title?: string } | undefined;
      throw new Error(`${response.status} ${problem?.code ?? ''}: ${problem?.detail ?? problem?.title ?? text}`);
    }
    return parsed as T;
  }
  const encoded = (clientId: string) => encodeURIComponent(clientId);
  return {
    register: (registration) => call('POST', '/clients', registration),
    list: async () => (await call<{ clients: ClientView[] }>('GET', '/clients')).clients,
    get: (clientId) => call('GET', `/clients/${encoded(clientId)}`),
    remove: (clientId) => call('DELETE', `/clients/${encoded(clientId)}`),
    keys: () => call('GET', '/keys'),
    rotate: () => call('POST', '/keys/rotate'),
    close: async () => undefined,
  };
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
