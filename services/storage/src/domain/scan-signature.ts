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

/** `holder` with its list under `key` mapped by `redact`; `holder` itself when nothing in the list changes. */
function withList<T>(holder: T, key: string, redact: (item: unknown) => unknown): T {
  const list = (holder as Record<string, unknown>)[key];
  if (!Array.isArray(list)) return holder;
  const redacted = list.map(redact);
  return redacted.some((item, index) => item !== list[index]) ? { ...holder, [key]: redacted } : holder;
}

/** An instance without the signature names of its data elements. Copies only what changes (never the stored document). */
const instanceWithout = <T>(instance: T): T => withList(instance, 'data', withoutSignature);

/**
 * A storage answer without signature names: a data element, an instance (its `data`), a page of instances
 * (`instances`) or a list of data elements (`dataElements`). Anything else comes back as it is.
 */
export function withoutScanSignatures<T>(payload: T): T {
  if (typeof payload !== 'object' || payload === null) return payload;
  if (hasSignature(payload)) return withoutSignature(payload);
  return withList(withList(instanceWithout(payload), 'instances', instanceWithout), 'dataElements', withoutSignature);
}
