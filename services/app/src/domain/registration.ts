import type { AppDefinition } from '@forms/app-definition';
import type { StorageApi } from '@forms/client';
import type { Application, ApplicationInput } from '@forms/contracts';
import { STORED_FORM_CONTENT_TYPE } from './form-data';

/** The metadata storage enforces: form data types hold JSON there, whatever the app accepts at its edge. */
export function storageMetadata(definition: AppDefinition): ApplicationInput {
  const { id: _id, ...input } = definition.metadata;
  return {
    ...input,
    dataTypes: input.dataTypes.map((type) => (definition.models.has(type.id) ? { ...type, allowedContentTypes: [STORED_FORM_CONTENT_TYPE] } : type)),
  };
}

/** Registers the app in storage, or brings storage's copy up to date. Runs at start-up with the org's token. */
export async function registerInStorage(definition: AppDefinition, storage: StorageApi, orgToken: string): Promise<Application> {
  const input = storageMetadata(definition);
  const existing = await storage.getApplication(orgToken, definition.metadata.id);
  if (!existing) return storage.registerApplication(orgToken, definition.metadata.id, input);
  return storage.updateApplication(orgToken, definition.metadata.id, input, existing.version);
}
