import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { TokenClient } from '@forms/client';
import { collect } from '../arguments';
import { UsageError } from '../errors';
import type { CliContext } from '../io';
import { DEFAULT_AUTH_URL, type SessionFactory } from '../session';

interface LoginOptions {
  authUrl?: string;
  clientId: string;
  clientSecret?: string;
  privateKey?: string;
  secretMethod: 'basic' | 'post';
  scope?: string[];
  audience?: string;
  appUrl?: string;
}

/** `login`, `logout` and `token`: the stored token of a client. */
export function addLoginCommands(program: Command, ctx: CliContext, session: SessionFactory): void {
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
    .action(async (options: LoginOptions, command: Command) => {
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
}
