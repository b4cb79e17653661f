import { ServiceProcess } from '@forms/test-support';

/** The events service as a real child process (for tests that SIGKILL it), with its output collected. */
export type EventsProcess = ServiceProcess;
export const EventsProcess = {
  start: (env: Record<string, string>): Promise<EventsProcess> =>
    ServiceProcess.start({
      name: 'events',
      entry: 'services/events/src/server.ts',
      ready: /events API at (http:\/\/[^ ,"]+?)\/events\/api\/v1/,
      env: { LOG_LEVEL: 'info', ...env },
    }),
};
