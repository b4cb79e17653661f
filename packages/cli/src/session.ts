import { resolve } from 'node:path';
import { AppClient, EventsClient, StorageClient, type StorageApi } from '@forms/client';
import { DomainError } from '@forms/contracts';
import type { Command } from 'commander';
import { ConfigStore, defaultConfigDir, type CliConfig } from './config-store';
import { UsageError } from './errors';
import { Progress, type CliContext } from './io';
import { checkAppId } from './arguments';

export const DEFAULT_AUTH_URL = 'http://127.0.0.1:5100';
export const DEFAULT_STORAGE_URL = 'http://127.0.0.1:5101/storage/api/v1';
export const DEFAULT_EVENTS_URL = 'http://127.0.0.1:5102/events/api/v1';
/** A stored token this close to its expiry is treated as expired. */
const EXPIRY_MARGIN_MS = 5_000;

export interface GlobalOptions {
  json?: boolean;
  storageUrl?: string;
  eventsUrl?: string;
  token?: string;
}

/** Makes the Session of the command that runs (its own options merged with the global ones). */
export type SessionFactory = (command: Command) => Session;

/** What a command needs beyond its own flags: output, config, token and clients. */
export class Session {
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

  /** A path the user gave, resolved against the folder they are in (not the repository's). */
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

  /** The events API: --events-url, else $FORMS_EVENTS_URL, else the local default. */
  async events(): Promise<EventsClient> {
    const baseUrl = this.globals.eventsUrl ?? this.ctx.env.FORMS_EVENTS_URL ?? DEFAULT_EVENTS_URL;
    return new EventsClient({ baseUrl, token: await this.token(), timeoutMs: 30_000 });
  }

  async app(appUrl: string | undefined, appId: string): Promise<AppClient> {
    const baseUrl = appUrl ?? this.ctx.env.FORMS_APP_URL ?? (await this.readConfig()).appUrl;
    if (!baseUrl) throw new UsageError('Give --app-url (or FORMS_APP_URL), e.g. http://127.0.0.1:5110');
    return new AppClient({ baseUrl, appId: checkAppId(appId), token: await this.token(), timeoutMs: 30_000 });
  }
}
