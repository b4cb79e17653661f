import { ServiceProcess } from '@forms/test-support';

/**
 * The storage service as a real child process (`src/server.ts` through tsx), configured by `env` only, as an
 * operator runs it: so a test can kill it for real (SIGKILL, SIGSTOP) and start it again on the same data. Its
 * base URL is the API's (`http://127.0.0.1:<port>/storage/api/v1`); its output is collected.
 */
export type StorageProcess = ServiceProcess;
export const StorageProcess = {
  start: (env: Record<string, string>): Promise<StorageProcess> =>
    ServiceProcess.start({ name: 'storage', entry: 'services/storage/src/server.ts', ready: /storage API at (http:\/\/[^ ,"]+)/, env: { LOG_LEVEL: 'info', ...env } }),
};
