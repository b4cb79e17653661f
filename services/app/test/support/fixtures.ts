import type { LightMyRequestResponse } from 'fastify';
import type { Instance } from '@forms/contracts';
import type { AppHarness } from './app-harness';

/** Smallest files whose first bytes say what they are; content sniffing judges attachments by these. */
export const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n'), Buffer.alloc(512, 0x20), Buffer.from('%%EOF\n')]);
export const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(256, 1)]);

export const STORAGE_API = '/storage/api/v1';

export function expectProblem(response: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  const body = response.json<Record<string, unknown>>();
  expect({ status: response.statusCode, code: body.code }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  return body;
}

export async function createInstance(h: AppHarness, headers: Record<string, string>, partyId: string, template: Record<string, unknown> = {}): Promise<Instance> {
  const response = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${partyId}`, headers, payload: template });
  if (response.statusCode !== 201) throw new Error(`create instance: ${response.statusCode} ${response.body}`);
  return response.json<Instance>();
}

/** `PUT process/next`, with Altinn's `{action}` when one is given. */
export function processNext(h: AppHarness, headers: Record<string, string>, instance: Pick<Instance, 'id'>, action?: string): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers, ...(action !== undefined && { payload: { action } }) });
}

/** The instance as storage has it, read with the given caller's token; undefined when storage says 404. */
export async function storedInstance(h: AppHarness, headers: Record<string, string>, instanceId: string): Promise<Instance | undefined> {
  const response = await h.storage.app.inject({ method: 'GET', url: `${STORAGE_API}/instances/${instanceId}`, headers });
  if (response.statusCode === 404) return undefined;
  if (response.statusCode !== 200) throw new Error(`storage GET instance: ${response.statusCode} ${response.body}`);
  return response.json<Instance>();
}

/** How many instances of the app storage holds for a party, as the org sees them (including soft-deleted). */
export async function instanceCount(h: AppHarness, orgHeaders: Record<string, string>, partyId: string): Promise<number> {
  const response = await h.storage.app.inject({
    method: 'GET',
    url: `${STORAGE_API}/instances?appId=${h.appId}&instanceOwner.partyId=${partyId}`,
    headers: orgHeaders,
  });
  if (response.statusCode !== 200) throw new Error(`storage query: ${response.statusCode} ${response.body}`);
  return response.json<{ count: number }>().count;
}
