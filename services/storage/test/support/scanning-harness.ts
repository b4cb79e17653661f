import type { ApplicationInput, DataElement, Instance } from '@forms/contracts';
import { instanceUrl, registerApp, type StorageHarness } from './storage-harness';

export const SCANNED_APP: ApplicationInput = {
  title: { en: 'Scanned uploads' },
  dataTypes: [
    { id: 'model', allowedContentTypes: ['application/json'], maxCount: 1, minCount: 0, taskId: 'Task_1' },
    { id: 'scanned', enableFileScan: true, maxCount: 0, minCount: 0 },
    { id: 'unscanned', maxCount: 0, minCount: 0 },
  ],
  partyTypesAllowed: { bankruptcyEstate: false, organisation: true, person: true, subUnit: false },
};

export const registerScannedApp = (h: StorageHarness) => registerApp(h, 'nav/scanned', SCANNED_APP);

export const upload = (h: StorageHarness, instance: Instance, dataType: string, body: Buffer | string, contentType = 'application/octet-stream') =>
  h.app.inject({
    method: 'POST',
    url: `${instanceUrl(instance)}/data?dataType=${dataType}`,
    headers: { ...h.auth.owner, 'content-type': contentType },
    payload: body,
  });

export const download = (h: StorageHarness, instance: Instance, element: DataElement, headers: Record<string, string>) =>
  h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/data/${element.id}`, headers });

/** The element as the org sees it now (with the signature name, which parties do not see). */
export const elementNow = async (h: StorageHarness, instance: Instance, element: DataElement): Promise<DataElement> => {
  const current = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.nav });
  return current.json<Instance>().data.find((d) => d.id === element.id) as DataElement;
};
