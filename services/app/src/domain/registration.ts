import type { AppDefinition } from '@forms/app-definition';
import type { StorageApi } from '@forms/client';
import { DomainError, type Application, type ApplicationInput } from '@forms/contracts';
import { STORED_FORM_CONTENT_TYPE } from './form-data';

/**
 * The metadata storage enforces: form data types hold JSON there, whatever the app accepts at its edge, and are
 * app-owned (`appLogic`); the process's task ids are the only ones storage accepts.
 */
export function storageMetadata(definition: AppDefinition): ApplicationInput {
  const { id: _id, ...input } = definition.metadata;
  const processTasks = [...definition.process.elements.values()].filter((element) => element.kind === 'task').map((task) => task.id);
  return {
    ...input,
    dataTypes: input.dataTypes.map((type) =>
      definition.models.has(type.id) ? { ...type, allowedContentTypes: [STORED_FORM_CONTENT_TYPE], appLogic: type.appLogic ?? {} } : type,
    ),
    processTasks,
  };
}

const MAX_ATTEMPTS = 5;

/** Another replica registering or updating the same app at the same moment. */
const lostRace = (error: unknown) =>
  error instanceof DomainError && (error.code === 'APPLICATION_EXISTS' || error.kind === 'precondition_failed');

/**
 * Registers the app in storage, or brings storage's copy up to date. Runs at start-up with the org's token;
 * replicas starting together race, so a lost race (the app registered or changed meanwhile) is retried on
 * what storage then has.
 */
export async function registerInStorage(definition: AppDefinition, storage: StorageApi, orgToken: string): Promise<Application> {
  const input = storageMetadata(definition);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const existing = await storage.getApplication(orgToken, definition.metadata.id);
      if (!existing) return await storage.registerApplication(orgToken, definition.metadata.id, input);
      return await storage.updateApplication(orgToken, definition.metadata.id, input, existing.version);
    } catch (error) {
      if (!lostRace(error) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}
