import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageApi } from '@forms/client';
import { DomainError, type DataElement, type Instance } from '@forms/contracts';
import { removePartials, syncFolder, writeFileAtomic, type WriteFile } from './atomic-file';
import { elementFileName } from './file-names';
import { byScanState, type InfectedElement } from './scan-status';

/** Written last into an instance's folder: its presence means every file of the instance is on disk. */
export const MARKER_FILE = '.synced.json';
export const INSTANCE_FILE = 'instance.json';

export interface SyncOptions {
  storage: Pick<StorageApi, 'queryAllInstances' | 'downloadData' | 'confirmComplete'>;
  /** An org token with `altinn:serviceowner/instances.read` and `.write`. */
  token: string | (() => string | Promise<string>);
  /** `<org>/<app>`. */
  appId: string;
  /** The org that confirms; default the app's org. */
  org?: string;
  /** Folder that receives `<partyId>/<instanceGuid>/`. */
  dir: string;
  /** Page size of the storage query. */
  pageSize?: number;
  /** How files are written (a seam for tests); default fsync + rename. */
  writeFile?: WriteFile;
  onEvent?: (event: SyncEvent) => void;
}

export type SyncEvent =
  | { type: 'instance'; instanceId: string; folder: string; files: number }
  /** `total`: bytes written by this run so far. */
  | { type: 'bytes'; instanceId: string; total: number }
  | { type: 'written'; instanceId: string; folder: string; files: SyncedFile[] }
  | { type: 'skipped'; instanceId: string; folder: string }
  /** A data element with malware: not downloaded (storage never serves it); the instance is still confirmed. */
  | { type: 'infected'; element: InfectedElement }
  /** Not downloaded nor confirmed this run: an element awaits its malware scan. */
  | { type: 'scan-pending'; instanceId: string }
  | { type: 'confirmed'; instanceId: string };

export interface SyncedFile {
  /** File name inside the instance folder. */
  name: string;
  dataId: string;
  dataType: string;
  contentType: string;
  size: number;
  sha256: string;
}

export interface SyncedInstance {
  id: string;
  folder: string;
  /** False when an earlier run had already written all of it (only the confirmation was left). */
  downloaded: boolean;
  files: SyncedFile[];
}

export interface SyncReport {
  instances: SyncedInstance[];
  downloaded: number;
  skipped: number;
  confirmed: number;
  bytes: number;
  /** Elements left out because storage found malware in them. */
  infected: InfectedElement[];
  /** Instances left for a later run because a malware scan is still pending. */
  scanPending: string[];
}

interface Marker {
  instanceId: string;
  syncedAt: string;
  files: SyncedFile[];
}

/**
 * Downloads every completed instance of an app that the org has not confirmed yet, then confirms it.
 *
 * Per instance, into `<dir>/<partyId>/<instanceGuid>/`: each data element (checked against its size and sha256
 * from storage), `instance.json`, and last `.synced.json`, each written to a temp file, fsynced and renamed. Only
 * then is the download confirmed (`POST …/complete`), so nothing is confirmed before its files are safely on disk.
 * A run that stops anywhere can be run again: an instance whose marker matches it is not downloaded again but
 * still confirmed; one without marker is downloaded afresh (the temp files of the interrupted run are removed).
 * Confirmed instances drop out of the query (`excludeConfirmedBy`), which is followed page by page.
 * Stops at the first failure, leaving the instances after it for the next run.
 */
export async function syncApp(options: SyncOptions): Promise<SyncReport> {
  const { storage, appId, dir } = options;
  const org = options.org ?? (appId.split('/')[0] as string);
  const tokenOf = typeof options.token === 'string' ? () => options.token as string : options.token;
  const writeFile = options.writeFile ?? writeFileAtomic;
  const emit = options.onEvent ?? (() => undefined);
  const report: SyncReport = { instances: [], downloaded: 0, skipped: 0, confirmed: 0, bytes: 0, infected: [], scanPending: [] };

  await mkdir(dir, { recursive: true });
  const query = { appId, 'process.isComplete': true, excludeConfirmedBy: org, ...(options.pageSize !== undefined && { size: options.pageSize }) };
  for await (const instance of storage.queryAllInstances(await tokenOf(), query)) {
    const [partyId, guid] = instanceIdParts(instance);
    const partyFolder = join(dir, partyId);
    const folder = join(partyFolder, guid);
    const { servable, infected, pending } = byScanState(instance);
    if (pending.length > 0) {
      report.scanPending.push(instance.id);
      emit({ type: 'scan-pending', instanceId: instance.id });
      continue;
    }
    for (const element of infected) {
      report.infected.push(element);
      emit({ type: 'infected', element });
    }
    const names = fileNames(servable);

    let files = await completedFiles(folder, instance, servable, names);
    const downloaded = files === undefined;
    if (files === undefined) {
      emit({ type: 'instance', instanceId: instance.id, folder, files: servable.length });
      await mkdir(folder, { recursive: true });
      // New folder entries are only durable once their parents are synced as well.
      await syncFolder(partyFolder);
      await syncFolder(dir);
      await removePartials(folder);
      files = [];
      for (const element of servable) {
        const name = names.get(element.id) as string;
        const download = await storage.downloadData(await tokenOf(), instance.id, element.id);
        const written = await writeFile(join(folder, name), download.body, {
          expectedSha256: element.contentHash,
          expectedSize: element.size,
          onProgress: (bytes) => emit({ type: 'bytes', instanceId: instance.id, total: report.bytes + bytes }),
        });
        report.bytes += written.bytes;
        files.push({ name, dataId: element.id, dataType: element.dataType, contentType: element.contentType, size: written.bytes, sha256: written.sha256 });
      }
      await writeFile(join(folder, INSTANCE_FILE), `${JSON.stringify(instance, null, 2)}\n`);
      const marker: Marker = { instanceId: instance.id, syncedAt: new Date().toISOString(), files };
      await writeFile(join(folder, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
      report.downloaded += 1;
      emit({ type: 'written', instanceId: instance.id, folder, files });
    } else {
      report.skipped += 1;
      emit({ type: 'skipped', instanceId: instance.id, folder });
    }

    await storage.confirmComplete(await tokenOf(), instance.id);
    report.confirmed += 1;
    report.instances.push({ id: instance.id, folder, downloaded, files });
    emit({ type: 'confirmed', instanceId: instance.id });
  }
  return report;
}

/** Party id and guid as path segments; anything that could leave the folder is refused. */
function instanceIdParts(instance: Instance): [string, string] {
  const [partyId, guid, ...rest] = instance.id.split('/');
  if (!partyId || !guid || rest.length > 0 || !/^[0-9]+$/.test(partyId) || !/^[0-9a-f-]{36}$/i.test(guid)) {
    throw new DomainError('invalid', 'UNEXPECTED_INSTANCE_ID', `Storage listed an instance with an unexpected id: ${JSON.stringify(instance.id)}`);
  }
  return [partyId, guid];
}

/**
 * The file name of each data element (see elementFileName); names that would clash (with each other or with the
 * files sync writes itself) get part of the data element id.
 */
export function fileNames(elements: DataElement[]): Map<string, string> {
  const taken = new Set([INSTANCE_FILE, MARKER_FILE]);
  const names = new Map<string, string>();
  for (const element of elements) {
    let name = elementFileName(element);
    if (taken.has(name.toLowerCase())) {
      const dot = name.lastIndexOf('.');
      const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
      name = `${stem}-${element.id}${extension}`;
    }
    taken.add(name.toLowerCase());
    names.set(element.id, name);
  }
  return names;
}

/**
 * The files of an instance written completely by an earlier run: its marker is there, lists exactly the instance's
 * data elements with their hashes, and each file is there with its size. Otherwise undefined (download again).
 */
async function completedFiles(folder: string, instance: Instance, elements: DataElement[], names: Map<string, string>): Promise<SyncedFile[] | undefined> {
  let marker: Marker;
  try {
    marker = JSON.parse(await readFile(join(folder, MARKER_FILE), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
  if (marker.instanceId !== instance.id || !Array.isArray(marker.files) || marker.files.length !== elements.length) return undefined;
  for (const element of elements) {
    const file = marker.files.find((f) => f.dataId === element.id);
    if (!file || file.name !== names.get(element.id) || (element.contentHash && file.sha256 !== element.contentHash.toLowerCase())) return undefined;
    const size = await stat(join(folder, file.name)).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== file.size) return undefined;
  }
  const instanceFile = await stat(join(folder, INSTANCE_FILE)).catch(() => undefined);
  return instanceFile ? marker.files : undefined;
}
