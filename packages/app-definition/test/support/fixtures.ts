/** Test helpers: example app folders, throw-away app folders, and minimal instances for rule contexts. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DataElement, Instance, Principal } from '@forms/contracts';
import { AppDefinitionError, loadAppDefinition, type RuleContext, type ValidationContext } from '../../src';

export const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
export const CHILD_BENEFIT = join(REPO_ROOT, 'apps', 'nav', 'child-benefit');
export const TAX_RETURN = join(REPO_ROOT, 'apps', 'skd', 'tax-return');

const createdFolders: string[] = [];

/** Writes files (path -> content; objects become JSON) into a fresh temporary folder. */
export function writeApp(files: Record<string, string | object>): string {
  const folder = mkdtempSync(join(tmpdir(), 'app-definition-'));
  createdFolders.push(folder);
  for (const [path, content] of Object.entries(files)) {
    const target = join(folder, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return folder;
}

export function removeTempApps(): void {
  for (const folder of createdFolders.splice(0)) rmSync(folder, { recursive: true, force: true });
}

const NOW = '2024-05-01T12:00:00.000Z';
const INSTANCE_GUID = '6a5c4b3d-1f2e-4a7b-9c8d-0e1f2a3b4c5d';

export const userPrincipal: Principal = {
  kind: 'user',
  userId: '1001',
  partyId: '50001',
  authLevel: 2,
  scopes: ['altinn:instances.read', 'altinn:instances.write'],
  subject: 'user:1001',
};

export function dataElement(dataType: string, index: number, contentType = 'application/pdf'): DataElement {
  return {
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    instanceGuid: INSTANCE_GUID,
    dataType,
    contentType,
    blobStoragePath: `blobs/${index}`,
    size: 100,
    contentHash: '0'.repeat(64),
    locked: false,
    isRead: true,
    tags: [],
    version: 1,
    created: NOW,
    createdBy: '1001',
    lastChanged: NOW,
    lastChangedBy: '1001',
  };
}

export function instance(appId: string, data: DataElement[] = [], partyId = '50001'): Instance {
  return {
    id: `${partyId}/${INSTANCE_GUID}`,
    instanceOwner: { partyId },
    appId,
    org: appId.split('/')[0] as string,
    selfLinks: { platform: `http://storage/instances/${partyId}/${INSTANCE_GUID}` },
    process: { started: NOW, startEvent: 'StartEvent_1' },
    status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Read' },
    completeConfirmations: [],
    data,
    dataValues: {},
    version: 1,
    created: NOW,
    createdBy: '1001',
    lastChanged: NOW,
    lastChangedBy: '1001',
  };
}

export function ruleContext(appId: string, partyId = '50001'): RuleContext {
  return { appId, principal: userPrincipal, instanceOwnerPartyId: partyId };
}

/** A validation context with one form data element (id `form-1`) of data type `model`, plus attachments. */
export function validationContext(appId: string, form: unknown, attachments: DataElement[] = []): ValidationContext {
  return {
    ...ruleContext(appId),
    instance: instance(appId, attachments),
    formData: new Map([['form-1', { dataType: 'model', data: form }]]),
    currentTask: 'Task_1',
  };
}

export const SCHEMA = { title: 'Demo', type: 'object', properties: { amount: { type: 'number' } } };
export const METADATA = {
  id: 'acme/demo',
  dataTypes: [{ id: 'model', maxCount: 1, minCount: 1, taskId: 'Task_1', appLogic: { schemaRef: 'models/Demo.schema.json' } }],
};
export const PROCESS = {
  startEvent: { id: 'Start', next: 'Task_1' },
  elements: [
    { kind: 'task', id: 'Task_1', taskType: 'data', next: 'End' },
    { kind: 'end', id: 'End' },
  ],
};
/** A valid app's files (one form, one task), with files replaced or (undefined) left out. */
export const minimalApp = (overrides: Record<string, string | object | undefined> = {}) => {
  const files: Record<string, string | object | undefined> = {
    'applicationmetadata.json': METADATA,
    'models/Demo.schema.json': SCHEMA,
    'process.json': PROCESS,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, string | object] => entry[1] !== undefined));
};

/** Loads a folder that must fail and returns its problems. */
export async function problemsOf(folder: string): Promise<string[]> {
  const failure: unknown = await loadAppDefinition(folder).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(AppDefinitionError);
  return (failure as AppDefinitionError).problems;
}

export const containing = (...fragments: string[]) => expect.arrayContaining(fragments.map((fragment) => expect.stringContaining(fragment)));
