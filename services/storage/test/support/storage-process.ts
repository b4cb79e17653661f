import { ServiceProcess } from '@forms/test-support';

/** The storage service as a real child process (for tests that SIGKILL it), with its log lines collected. */
export type StorageProcess = ServiceProcess;
export const StorageProcess = {
  start: (env: Record<string, string>): Promise<StorageProcess> =>
    ServiceProcess.start({ name: 'storage', entry: 'services/storage/src/server.ts', ready: /storage API at (http:\/\/[^ ,"]+)/, env }),
};
