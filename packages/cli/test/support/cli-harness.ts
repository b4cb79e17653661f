import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AppClient, StorageClient, type StorageApi, type StorageClientOptions } from '@forms/client';
import { Scopes } from '@forms/contracts';
import { run, type CliContext } from '../../src';
import { startApp, type AppHarness } from '../../../../services/app/test/support/app-harness';
import { PDF } from '../../../../services/app/test/support/fixtures';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as the one JSON document --json prints. */
  json<T = Record<string, unknown>>(): T;
}

/** Runs forms-cli in this process, with captured output and the given environment and seams. */
export async function runCli(argv: string[], options: Partial<CliContext> & { tty?: boolean } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const { tty, ...rest } = options;
  const code = await run(argv, {
    env: {},
    ...rest,
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: tty ?? false },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: tty ?? false },
  });
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}): ${stdout}\nstderr: ${stderr}`);
      }
    },
  };
}

export const rawToken = (headers: Record<string, string>): string => (headers.authorization ?? '').replace(/^Bearer /, '');

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
export const sha256OfFile = async (path: string): Promise<string> => sha256(await readFile(path));

/** A PDF the content check accepts (head and `%%EOF` trailer), `size` bytes, different every time. */
export const pdf = (size: number): Buffer => Buffer.concat([PDF, randomBytes(Math.max(0, size - PDF.length - 7)), Buffer.from('\n%%EOF\n')]);

/** skd/tax-return (app service + storage on real ports), and helpers to fill and submit returns. */
export interface TaxReturnStack {
  h: AppHarness;
  appUrl: string;
  storageUrl: string;
  storage: StorageClient;
  /** Org token of skd (service owner read + write). */
  skd: string;
  /** A token of a person owning `partyId`. */
  personToken(partyId: string): string;
  /** Creates a tax return with JSON form data and receipts through the app API and runs it to the end (process/next twice). */
  submitReturn(partyId: string, income: number, receipts?: Buffer[]): Promise<string>;
  close(): Promise<void>;
}

export async function startTaxReturns(storageEnv?: Record<string, string>): Promise<TaxReturnStack> {
  const h = await startApp('skd/tax-return', { ...(storageEnv && { storageEnv }) });
  const appUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const storage = new StorageClient({ baseUrl: h.storageUrl });
  const personToken = (partyId: string) =>
    h.storage.issuer.userToken({ userId: Number(partyId) + 1000, partyId, scopes: [Scopes.instancesRead, Scopes.instancesWrite] });
  return {
    h,
    appUrl,
    storageUrl: h.storageUrl,
    storage,
    skd: rawToken(h.storage.auth.skd),
    personToken,
    async submitReturn(partyId, income, receipts = []) {
      const app = new AppClient({ baseUrl: appUrl, appId: 'skd/tax-return', token: personToken(partyId) });
      const form = { income, deductions: receipts.map((_, index) => ({ description: `Receipt ${index + 1}`, amount: 1000 })) };
      const instance = await app.createInstance(
        {},
        {
          partyId,
          data: [
            { dataType: 'model', contentType: 'application/json', body: JSON.stringify(form) },
            ...receipts.map((body, index) => ({ dataType: 'receipt', contentType: 'application/pdf', filename: `receipt-${index + 1}.pdf`, body })),
          ],
        },
      );
      await app.nextProcess(instance.id);
      const ended = await app.nextProcess(instance.id);
      if (!ended.ended) throw new Error(`instance ${instance.id} did not reach the end`);
      return instance.id;
    },
    close: () => h.close(),
  };
}

/** Calls made through a StorageApi, and a hook before each confirmation. */
export interface StorageSpy {
  downloads: Array<{ instanceId: string; dataId: string }>;
  confirms: string[];
  storage: StorageApi;
}

export function spyStorage(inner: StorageApi, hooks: { beforeConfirm?: (instanceId: string) => Promise<void> } = {}): StorageSpy {
  const spy: StorageSpy = { downloads: [], confirms: [], storage: inner };
  spy.storage = Object.assign(Object.create(inner) as StorageApi, {
    downloadData: (token: string, instanceId: string, dataId: string, options?: { range?: { start: number; end: number } }) => {
      spy.downloads.push({ instanceId, dataId });
      return inner.downloadData(token, instanceId, dataId, options);
    },
    confirmComplete: async (token: string, instanceId: string) => {
      await hooks.beforeConfirm?.(instanceId);
      spy.confirms.push(instanceId);
      return inner.confirmComplete(token, instanceId);
    },
  });
  return spy;
}

export const storageFactory = (make: (client: StorageApi) => StorageApi) => (options: StorageClientOptions) => make(new StorageClient(options));
