import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import type { Instance } from '@forms/contracts';
import { UsageError } from './errors';

/** Files at least this large get a progress line while they move. */
export const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;

export function checkAppId(appId: string): string {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/i.test(appId)) throw new UsageError(`--app must be <org>/<app>, not "${appId}"`);
  return appId;
}

export function checkInstanceId(id: string): string {
  if (!/^[0-9]+\/[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`--instance must be <partyId>/<instanceGuid>, not "${id}"`);
  return id;
}

/** Commander argument parser of a repeatable option. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('Not a positive integer.');
  return number;
}

export async function fileSize(path: string, flag: string): Promise<number> {
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
export function counting(onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      callback(null, chunk);
    },
  });
}

export function describeState(instance: Instance): string {
  if (instance.process.ended) return `ended${instance.process.endEvent ? ` ${instance.process.endEvent}` : ''}`;
  return instance.process.currentTask ? `task ${instance.process.currentTask.elementId}` : '-';
}
