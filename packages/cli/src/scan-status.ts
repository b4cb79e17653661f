import type { DataElement, Instance } from '@forms/contracts';

/** A data element that storage found malware in: never served, so sync leaves it out and says so. */
export interface InfectedElement {
  instanceId: string;
  dataId: string;
  dataType: string;
  filename?: string;
  signature?: string;
}

/** Splits an instance's elements by their malware scan: what can be downloaded, what never will, what not yet. */
export function byScanState(instance: Instance): { servable: DataElement[]; infected: InfectedElement[]; pending: DataElement[] } {
  const servable: DataElement[] = [];
  const infected: InfectedElement[] = [];
  const pending: DataElement[] = [];
  for (const element of instance.data) {
    if (element.fileScanResult === 'Infected') {
      infected.push({
        instanceId: instance.id,
        dataId: element.id,
        dataType: element.dataType,
        ...(element.filename !== undefined && { filename: element.filename }),
        ...(element.fileScanSignature !== undefined && { signature: element.fileScanSignature }),
      });
    } else {
      if (element.fileScanResult === 'Pending') pending.push(element);
      servable.push(element);
    }
  }
  return { servable, infected, pending };
}

/** ` [scan: Clean]`, ` [scan: Infected Test.EICAR]`…; nothing when the element was not scanned. */
export function scanNote(element: DataElement): string {
  const result = element.fileScanResult;
  if (!result || result === 'NotApplicable') return '';
  return ` [scan: ${result}${result === 'Infected' && element.fileScanSignature ? ` ${element.fileScanSignature}` : ''}]`;
}
