/**
 * CI must not pass with the malware-scanning tests skipped: .ci/run installs clamd and sets CI=true, and under
 * CI=true a missing clamd fails every suite that needs it instead of skipping it (test-support/src/clamd.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithClamd, sharedClamd } from '@forms/test-support';
import { ROOT } from './support/readme';

const CLAMD_ENV = ['CI', 'TEST_CLAMD_HOST', 'TEST_CLAMD_PORT', 'TEST_CLAMD_UNAVAILABLE'] as const;

function withEnv<T>(env: Partial<Record<(typeof CLAMD_ENV)[number], string>>, run: () => T): T {
  const saved = Object.fromEntries(CLAMD_ENV.map((name) => [name, process.env[name]]));
  for (const name of CLAMD_ENV) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return run();
  } finally {
    for (const name of CLAMD_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

it('.ci/run installs clamd and runs the checks with CI=true', () => {
  const script = readFileSync(join(ROOT, '.ci', 'run'), 'utf8').split('\n');
  const line = (pattern: RegExp) => script.findIndex((l) => pattern.test(l));
  const ci = line(/^export CI=true$/);
  const install = line(/^bash test-support\/backends\/clamd\.sh --install$/);
  const check = line(/^npm run check$/);
  expect([ci, install, check].every((index) => index >= 0)).toBe(true);
  expect(ci).toBeLessThan(check);
  expect(install).toBeLessThan(check);
});

it('under CI=true a missing clamd fails the scanning suites instead of skipping them', () => {
  const unavailable = { CI: 'true', TEST_CLAMD_UNAVAILABLE: 'clamd is not installed' };
  expect(() => withEnv(unavailable, sharedClamd)).toThrow(/CI=true: the malware-scanning tests must run against a real clamd, but clamd is not installed/);
  const body = jest.fn();
  expect(() => withEnv(unavailable, () => describeWithClamd('scanning', body))).toThrow(/CI=true/);
  expect(body).not.toHaveBeenCalled();
});

it('outside CI a missing clamd skips the scanning suites, saying why; a running one is used', () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    expect(withEnv({ TEST_CLAMD_UNAVAILABLE: 'no root to install it' }, sharedClamd)).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('SKIPPED malware-scanning tests (no real clamd): no root to install it'));
  } finally {
    warn.mockRestore();
  }
  expect(withEnv({ CI: 'true', TEST_CLAMD_PORT: '3310' }, sharedClamd)).toEqual({ host: '127.0.0.1', port: 3310 });
});
