import type { DataElement, Principal } from '@forms/contracts';

/**
 * The name of the malware found in a file is for the org: the org, and the app's own token (which acts as its org),
 * see `fileScanSignature`. A party, also through the app acting for it, sees only that the file is `Infected`.
 */
export function seesScanSignatures(principal: Principal | null | undefined): boolean {
  return principal?.kind === 'org';
}

type Element = Partial<Pick<DataElement, 'fileScanSignature'>>;

const hasSignature = (element: unknown): boolean => typeof element === 'object' && element !== null && (element as Element).fileScanSignature !== undefined;

function withoutSignature<T>(element: T): T {
  if (!hasSignature(element)) return element;
  const { fileScanSignature: _hidden, ...rest } = element as T & Element;
  return rest as T;
}

/** An instance without the signature names of its data elements. Copies only what changes (never the stored document). */
function instanceWithout<T>(instance: T): T {
  const data = (instance as { data?: unknown }).data;
  if (!Array.isArray(data) || !data.some(hasSignature)) return instance;
  return { ...instance, data: data.map(withoutSignature) };
}

/**
 * A storage answer without signature names: a data element, an instance (its `data`), or a page of instances
 * (`instances`). Anything else comes back as it is.
 */
export function withoutScanSignatures<T>(payload: T): T {
  if (typeof payload !== 'object' || payload === null) return payload;
  if (hasSignature(payload)) return withoutSignature(payload);
  const instances = (payload as { instances?: unknown }).instances;
  if (Array.isArray(instances)) return instances.some((i) => instanceWithout(i) !== i) ? { ...payload, instances: instances.map(instanceWithout) } : payload;
  return instanceWithout(payload);
}
