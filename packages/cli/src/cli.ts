import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AppClient, StorageClient, TokenClient, type DataPart, type InstanceQuery, type InstanceTemplate, type StorageApi } from '@forms/client';
import { DomainError, isDomainError, type Instance } from '@forms/contracts';
import { writeFileAtomic } from './atomic-file';
import { ConfigStore, defaultConfigDir, type CliConfig } from './config-store';
import { contentTypeOf } from './content-type';
import { ExitCode, UsageError } from './errors';
import { formatBytes, Progress, transferLine, type CliContext } from './io';
import { syncApp, type SyncEvent } from './sync';

export const DEFAULT_AUTH_URL = 'http://127.0.0.1:5100';
export const DEFAULT_STORAGE_URL = 'http://127.0.0.1:5101/storage/api/v1';
/** Files at least this large get a progress line while they move. */
const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;
/** A stored token this close to its expiry is treated as expired. */
const EXPIRY_MARGIN_MS = 5_000;

interface GlobalOptions {
  json?: boolean;
  storageUrl?: string;
  token?: string;
}

/**
 * Runs forms-cli with `argv` (the arguments after the program name) and returns the exit code: 0 ok, 1 usage,
 * 2 when the platform refused or failed (its problem code and detail on stderr) or a local write failed.
 */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, ctx, argv.includes('--json'));
  }
}

function reportError(error: unknown, ctx: CliContext, json: boolean): number {
  // Commander has already printed its own message (or the help).
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  const code = error instanceof UsageError ? ExitCode.usage : ExitCode.failure;
  if (json) {
    const body = isDomainError(error)
      ? { kind: error.kind, code: error.code, detail: error.message, ...error.extensions }
      : { code: error instanceof UsageError ? 'USAGE' : 'ERROR', detail: (error as Error).message ?? String(error) };
    ctx.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return code;
  }
  if (isDomainError(error)) {
    ctx.stderr.write(`forms-cli: ${error.code}: ${error.message}\n`);
    const issues = error.extensions?.validationIssues;
    if (Array.isArray(issues)) {
      for (const issue of issues as Array<{ severity?: string; code?: string; field?: string; description?: string }>) {
        ctx.stderr.write(`  ${issue.severity ?? 'error'} ${issue.code ?? ''}${issue.field ? ` (${issue.field})` : ''}: ${issue.description ?? ''}\n`);
      }
    }
  } else {
    ctx.stderr.write(`forms-cli: ${(error as Error).message ?? String(error)}\n`);
  }
  return code;
}

/** What a command needs beyond its own flags: output, config, token and clients. */
class Session {
  readonly json: boolean;
  readonly store: ConfigStore;
  private config: CliConfig | undefined;

  constructor(
    readonly ctx: CliContext,
    readonly globals: GlobalOptions,
  ) {
    this.json = globals.json === true;
    this.store = new ConfigStore(defaultConfigDir(ctx.env));
  }

  now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  path(file: string): string {
    return resolve(this.ctx.cwd ?? process.cwd(), file);
  }

  progress(): Progress {
    return new Progress(this.ctx.stderr, !this.json && this.ctx.stderr.isTTY === true);
  }

  /** Prints the result: `value` as one JSON document with --json, else the text lines. */
  out(value: unknown, text: () => string | string[]): void {
    if (this.json) {
      this.ctx.stdout.write(`${JSON.stringify(value)}\n`);
      return;
    }
    const lines = text();
    for (const line of Array.isArray(lines) ? lines : [lines]) this.ctx.stdout.write(`${line}\n`);
  }

  async readConfig(): Promise<CliConfig> {
    this.config ??= await this.store.read();
    return this.config;
  }

  /** --token, else $FORMS_TOKEN, else the token `login` stored (unless expired). */
  async token(): Promise<string> {
    const given = this.globals.token ?? this.ctx.env.FORMS_TOKEN;
    if (given) return given;
    const config = await this.readConfig();
    if (!config.accessToken) throw new UsageError('Not logged in: run `forms-cli login` first, or give --token or FORMS_TOKEN.');
    const expiresAt = Date.parse(config.expiresAt ?? '');
    if (!(expiresAt - EXPIRY_MARGIN_MS > this.now())) {
      throw new DomainError('unauthenticated', 'TOKEN_EXPIRED', `The stored token expired at ${config.expiresAt ?? '?'}; run \`forms-cli login\` again.`);
    }
    return config.accessToken;
  }

  async storageUrl(): Promise<string> {
    return this.globals.storageUrl ?? this.ctx.env.FORMS_STORAGE_URL ?? (await this.readConfig()).storageUrl ?? DEFAULT_STORAGE_URL;
  }

  async storage(): Promise<StorageApi> {
    const options = { baseUrl: await this.storageUrl(), timeoutMs: 30_000 };
    return this.ctx.createStorage ? this.ctx.createStorage(options) : new StorageClient(options);
  }

  async app(appUrl: string | undefined, appId: string): Promise<AppClient> {
    const baseUrl = appUrl ?? this.ctx.env.FORMS_APP_URL ?? (await this.readConfig()).appUrl;
    if (!baseUrl) throw new UsageError('Give --app-url (or FORMS_APP_URL), e.g. http://127.0.0.1:5110');
    return new AppClient({ baseUrl, appId: checkAppId(appId), token: await this.token(), timeoutMs: 30_000 });
  }
}

function checkAppId(appId: string): string {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/i.test(appId)) throw new UsageError(`--app must be <org>/<app>, not "${appId}"`);
  return appId;
}

function checkInstanceId(id: string): string {
  if (!/^[0-9]+\/[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`--instance must be <partyId>/<instanceGuid>, not "${id}"`);
  return id;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('Not a positive integer.');
  return number;
}

async function fileSize(path: string, flag: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${flag}: ${path} is not a file`);
    return info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** A pass-through stream that reports how many bytes went through. */
function counting(onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      callback(null, chunk);
    },
  });
}

function describeState(instance: Instance): string {
  if (instance.process.ended) return `ended${instance.process.endEvent ? ` ${instance.process.endEvent}` : ''}`;
  return instance.process.currentTask ? `task ${instance.process.currentTask.elementId}` : '-';
}

const instanceLine = (instance: Instance) => `${instance.id}  ${instance.appId}  ${describeState(instance)}  ${instance.lastChanged}`;

export function buildProgram(ctx: CliContext): Command {
  const session = (command: Command) => new Session(ctx, command.optsWithGlobals<GlobalOptions>());

  const program = new Command('forms-cli')
    .description('Command-line client of the forms platform: log in, query, create, upload, download and sync instances.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => ctx.stdout.write(text), writeErr: (text) => ctx.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .option('--json', 'machine-readable output on stdout (one JSON document), errors as JSON on stderr, no progress')
    .option('--storage-url <url>', `storage API base URL (default: $FORMS_STORAGE_URL, the URL saved at login, or ${DEFAULT_STORAGE_URL})`)
    .option('--token <token>', 'bearer token to use instead of the stored one (or $FORMS_TOKEN)');

  program
    .command('login')
    .description('get a token with client credentials (a secret or a private key) and store it in the config file (mode 0600)')
    .option('--auth-url <url>', `token service base URL (default: $FORMS_AUTH_URL, the last login's, or ${DEFAULT_AUTH_URL})`)
    .requiredOption('--client-id <id>', 'client id')
    .option('--client-secret <secret>', 'client secret (or $FORMS_CLIENT_SECRET, which keeps it out of the process list)')
    .option('--private-key <file>', 'PEM private key of the client: authenticate with a signed private_key_jwt assertion')
    .addOption(new Option('--secret-method <method>', 'how the secret is sent').choices(['basic', 'post']).default('basic'))
    .option('--scope <scope>', 'scope to ask for (repeatable, or space-separated); default: all of the client', collect)
    .option('--audience <aud>', "aud of the client assertion (default: the token endpoint URL; the token service's issuer works too)")
    .option('--app-url <url>', 'also remember this app service URL for later commands')
    .action(async (options: {
      authUrl?: string;
      clientId: string;
      clientSecret?: string;
      privateKey?: string;
      secretMethod: 'basic' | 'post';
      scope?: string[];
      audience?: string;
      appUrl?: string;
    }, command: Command) => {
      const s = session(command);
      const config = await s.readConfig();
      const authUrl = options.authUrl ?? ctx.env.FORMS_AUTH_URL ?? config.authUrl ?? DEFAULT_AUTH_URL;
      const secret = options.clientSecret ?? (options.privateKey ? undefined : ctx.env.FORMS_CLIENT_SECRET);
      if (options.privateKey && options.clientSecret) throw new UsageError('Give --client-secret or --private-key, not both.');
      if (!options.privateKey && !secret) throw new UsageError('Give --client-secret (or FORMS_CLIENT_SECRET) or --private-key.');
      let privateKey: string | undefined;
      if (options.privateKey) {
        privateKey = await readFile(s.path(options.privateKey), 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`--private-key: cannot read ${options.privateKey} (${error.code ?? error.message})`);
        });
      }
      let client: TokenClient;
      try {
        client = new TokenClient({
          authUrl,
          clientId: options.clientId,
          ...(privateKey !== undefined ? { privateKey } : { clientSecret: secret as string }),
          secretMethod: options.secretMethod === 'post' ? 'client_secret_post' : 'client_secret_basic',
          ...(options.scope && { scope: options.scope.join(' ') }),
          ...(options.audience && { audience: options.audience }),
        });
      } catch (error) {
        throw new UsageError(`--private-key: ${(error as Error).message}`);
      }
      const token = await client.getToken();
      const saved = await s.store.update({
        authUrl,
        clientId: options.clientId,
        scope: token.scope,
        accessToken: token.accessToken,
        expiresAt: token.expiresAt.toISOString(),
        ...(s.globals.storageUrl && { storageUrl: s.globals.storageUrl }),
        ...(options.appUrl && { appUrl: options.appUrl }),
      });
      s.out({ clientId: options.clientId, authUrl, scope: token.scope, expiresAt: saved.expiresAt, configFile: s.store.path }, () => [
        `Logged in as ${options.clientId}; token valid until ${saved.expiresAt ?? '?'}`,
        `Scope: ${token.scope || '(none)'}`,
        `Saved to ${s.store.path}`,
      ]);
    });

  program
    .command('logout')
    .description('forget the stored token')
    .action(async (_options: unknown, command: Command) => {
      const s = session(command);
      await s.store.update({ accessToken: undefined, expiresAt: undefined, scope: undefined });
      s.out({ loggedOut: true }, () => 'Logged out.');
    });

  program
    .command('token')
    .description('print the stored token (for curl and other tools)')
    .action(async (_options: unknown, command: Command) => {
      const s = session(command);
      const accessToken = await s.token();
      const config = await s.readConfig();
      s.out({ accessToken, expiresAt: config.expiresAt ?? null }, () => accessToken);
    });

  const instances = program.command('instances').description('query and create instances');

  instances
    .command('list')
    .description('query instances in storage (orgs: of their apps; parties: their own)')
    .option('--app <org/app>', 'appId')
    .option('--org <org>', 'org of the app')
    .option('--party <partyId>', 'instanceOwner.partyId')
    .option('--task <taskId>', 'process.currentTask')
    .option('--complete', 'only instances whose process has ended')
    .option('--no-complete', 'only instances whose process has not ended')
    .option('--end-event <id>', 'process.endEvent')
    .option('--last-changed <op:iso>', 'e.g. gt:2024-05-01T00:00:00Z (repeatable)', collect)
    .option('--created <op:iso>', 'created filter (repeatable)', collect)
    .option('--due-before <op:iso>', 'dueBefore filter (repeatable)', collect)
    .option('--visible-after <op:iso>', 'visibleAfter filter (repeatable)', collect)
    .option('--exclude-confirmed-by <org>', 'leave out instances this org has confirmed')
    .option('--size <n>', 'page size (1-1000)', positiveInteger)
    .option('--continuation-token <token>', 'start at this page')
    .option('--all', 'follow continuation tokens to the last page')
    .action(async (options: {
      app?: string;
      org?: string;
      party?: string;
      task?: string;
      complete?: boolean;
      endEvent?: string;
      lastChanged?: string[];
      created?: string[];
      dueBefore?: string[];
      visibleAfter?: string[];
      excludeConfirmedBy?: string;
      size?: number;
      continuationToken?: string;
      all?: boolean;
    }, command: Command) => {
      const s = session(command);
      const query: InstanceQuery = {
        appId: options.app !== undefined ? checkAppId(options.app) : undefined,
        org: options.org,
        'instanceOwner.partyId': options.party,
        'process.currentTask': options.task,
        'process.isComplete': options.complete,
        'process.endEvent': options.endEvent,
        lastChanged: options.lastChanged,
        created: options.created,
        dueBefore: options.dueBefore,
        visibleAfter: options.visibleAfter,
        excludeConfirmedBy: options.excludeConfirmedBy,
        size: options.size,
        continuationToken: options.continuationToken,
      };
      const storage = await s.storage();
      const token = await s.token();
      if (!options.all) {
        const page = await storage.queryInstances(token, query);
        s.out(page, () => page.instances.map(instanceLine));
        if (page.next && !s.json) {
          const next = new URL(page.next, 'http://x').searchParams.get('continuationToken');
          ctx.stderr.write(`More: add --continuation-token ${next ?? '?'} (or --all)\n`);
        }
        return;
      }
      const all: Instance[] = [];
      const progress = s.progress();
      for await (const instance of storage.queryAllInstances(token, query)) {
        if (s.json) all.push(instance);
        else {
          progress.done();
          ctx.stdout.write(`${instanceLine(instance)}\n`);
        }
      }
      if (s.json) s.out({ count: all.length, instances: all }, () => []);
    });

  instances
    .command('create')
    .description('create an instance through the app, optionally with its data elements in the same request')
    .requiredOption('--app <org/app>', 'appId')
    .option('--app-url <url>', 'app service base URL (default: $FORMS_APP_URL or the one saved at login)')
    .option('--party <partyId>', "instance owner's party id (default: the caller's own party)")
    .option('--data <dataType=file>', 'a data element to send along (repeatable); content type by file extension', collect)
    .option('--template <file>', 'instance template JSON ({instanceOwner, dueBefore, visibleAfter, dataValues})')
    .action(async (options: { app: string; appUrl?: string; party?: string; data?: string[]; template?: string }, command: Command) => {
      const s = session(command);
      let template: InstanceTemplate = {};
      if (options.template) {
        const text = await readFile(s.path(options.template), 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`--template: cannot read ${options.template} (${error.code ?? error.message})`);
        });
        try {
          template = JSON.parse(text) as InstanceTemplate;
        } catch {
          throw new UsageError(`--template: ${options.template} is not valid JSON`);
        }
      }
      const specs: Array<{ dataType: string; file: string }> = [];
      for (const spec of options.data ?? []) {
        const equals = spec.indexOf('=');
        if (equals < 1 || equals === spec.length - 1) throw new UsageError(`--data must be <dataType>=<file>, not "${spec}"`);
        const file = s.path(spec.slice(equals + 1));
        await fileSize(file, '--data');
        specs.push({ dataType: spec.slice(0, equals), file });
      }
      const app = await s.app(options.appUrl, options.app);
      const parts: DataPart[] = specs.map(({ dataType, file }) => ({
        dataType,
        contentType: contentTypeOf(file),
        filename: basename(file),
        body: createReadStream(file),
      }));
      const instance = await app.createInstance(template, { ...(options.party && { partyId: options.party }), data: parts });
      s.out(instance, () => [`Created ${instance.id} (${describeState(instance)})`, ...instance.data.map((d) => `  ${d.dataType}  ${d.id}  ${d.size} bytes`)]);
    });

  const data = program.command('data').description('upload and download data elements');

  data
    .command('upload')
    .description('stream a file to an instance through the app (form data or an attachment)')
    .requiredOption('--app <org/app>', 'appId')
    .option('--app-url <url>', 'app service base URL (default: $FORMS_APP_URL or the one saved at login)')
    .requiredOption('--instance <partyId/guid>', 'instance id')
    .requiredOption('--type <dataType>', 'data type')
    .requiredOption('--file <file>', 'file to upload')
    .option('--content-type <type>', 'content type (default: by file extension)')
    .option('--filename <name>', 'file name to record (default: the file name)')
    .action(async (options: { app: string; appUrl?: string; instance: string; type: string; file: string; contentType?: string; filename?: string }, command: Command) => {
      const s = session(command);
      const instanceId = checkInstanceId(options.instance);
      const file = s.path(options.file);
      const size = await fileSize(file, '--file');
      const app = await s.app(options.appUrl, options.app);
      const progress = s.progress();
      const label = `Uploading ${basename(file)}`;
      const body = createReadStream(file).pipe(counting((bytes) => size >= PROGRESS_THRESHOLD_BYTES && progress.update(transferLine(label, bytes, size))));
      let element;
      try {
        element = await app.uploadAttachment(instanceId, options.type, body, {
          contentType: options.contentType ?? contentTypeOf(file),
          filename: options.filename ?? basename(file),
          contentLength: size,
        });
      } finally {
        progress.done();
      }
      s.out(element, () => `Uploaded ${basename(file)} as ${element.dataType} ${element.id} (${element.size} bytes)`);
    });

  data
    .command('download')
    .description('stream a data element from storage to a file (written to a temp file, then renamed)')
    .requiredOption('--instance <partyId/guid>', 'instance id')
    .requiredOption('--data-id <guid>', 'data element id')
    .option('--out <file>', "target file (default: the element's file name, in the current folder)")
    .action(async (options: { instance: string; dataId: string; out?: string }, command: Command) => {
      const s = session(command);
      const instanceId = checkInstanceId(options.instance);
      const storage = await s.storage();
      const download = await storage.downloadData(await s.token(), instanceId, options.dataId);
      const name = options.out ?? (download.filename ? basename(download.filename) : options.dataId);
      const target = s.path(name);
      const progress = s.progress();
      const label = `Downloading ${basename(target)}`;
      let written;
      try {
        written = await (ctx.writeFile ?? writeFileAtomic)(target, download.body, {
          onProgress: (bytes) => download.size >= PROGRESS_THRESHOLD_BYTES && progress.update(transferLine(label, bytes, download.size)),
          ...(download.size > 0 && { expectedSize: download.size }),
        });
      } finally {
        progress.done();
      }
      s.out({ path: written.path, bytes: written.bytes, sha256: written.sha256, contentType: download.contentType }, () =>
        `Saved ${written.bytes} bytes to ${written.path} (sha256 ${written.sha256})`,
      );
    });

  program
    .command('sync')
    .description(
      "download every completed instance of an app the org has not confirmed into <dir>/<partyId>/<instanceGuid>/, then confirm each; safe to re-run after a crash",
    )
    .requiredOption('--app <org/app>', 'appId')
    .requiredOption('--dir <folder>', 'target folder')
    .option('--org <org>', "org that confirms (default: the app's org)")
    .option('--size <n>', 'page size of the storage query', positiveInteger)
    .action(async (options: { app: string; dir: string; org?: string; size?: number }, command: Command) => {
      const s = session(command);
      const appId = checkAppId(options.app);
      const storage = await s.storage();
      const token = await s.token();
      const progress = s.progress();
      let written = 0;
      let skipped = 0;
      let bytes = 0;
      const onEvent = (event: SyncEvent) => {
        if (event.type === 'bytes') bytes = event.total;
        if (event.type === 'written') written += 1;
        if (event.type === 'skipped') skipped += 1;
        if (event.type === 'confirmed' && !s.json) {
          progress.done();
          ctx.stdout.write(`confirmed ${event.instanceId}\n`);
        }
        progress.update(`sync: ${written} written, ${skipped} already on disk, ${formatBytes(bytes)}`, event.type !== 'bytes');
      };
      let report;
      try {
        report = await syncApp({
          storage,
          token,
          appId,
          dir: s.path(options.dir),
          ...(options.org && { org: options.org }),
          ...(options.size && { pageSize: options.size }),
          ...(ctx.writeFile && { writeFile: ctx.writeFile }),
          onEvent,
        });
      } finally {
        progress.done();
      }
      s.out(report, () => `${report.downloaded} downloaded, ${report.skipped} already on disk, ${report.confirmed} confirmed (${report.bytes} bytes)`);
    });

  return program;
}
