import { principalId, type Application, type ApplicationInput, type Principal } from '@forms/contracts';
import { DuplicateKeyError, type MetadataStore } from './ports/metadata-store';
import { authorizeApplicationWrite } from './authorization';
import type { Clock } from './clock';
import { StorageErrors } from './errors';

const NO_PARTY_TYPES_RESTRICTION = { bankruptcyEstate: false, organisation: false, person: false, subUnit: false };

/** The register of apps: only an app's owner org may register, change or delete it; anyone may read it (as in Altinn). */
export class ApplicationService {
  constructor(
    private readonly store: MetadataStore,
    private readonly clock: Clock,
  ) {}

  async register(principal: Principal, org: string, app: string, input: ApplicationInput): Promise<Application> {
    authorizeApplicationWrite(principal, org, `${org}/${app}`);
    const id = `${org}/${app}`;
    const now = this.clock();
    const who = principalId(principal);
    const application: Application = {
      ...this.fromInput(input),
      id,
      org,
      version: 1,
      created: now,
      createdBy: who,
      lastChanged: now,
      lastChangedBy: who,
    };
    try {
      await this.store.applications.insert(application);
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw StorageErrors.applicationExists(id);
      throw error;
    }
    return application;
  }

  async update(principal: Principal, org: string, app: string, input: ApplicationInput, expectedVersion?: number): Promise<Application> {
    authorizeApplicationWrite(principal, org, `${org}/${app}`);
    const current = await this.get(org, app);
    if (expectedVersion !== undefined && expectedVersion !== current.version) throw StorageErrors.versionMismatch(current.version);
    // Everything but identity and creation comes from the input: a setting left out of it is gone, not kept.
    const { id, org: owner, created, createdBy } = current;
    const updated: Application = {
      id,
      org: owner,
      created,
      createdBy,
      ...this.fromInput(input),
      version: current.version + 1,
      lastChanged: this.clock(),
      lastChangedBy: principalId(principal),
    };
    if (!(await this.store.applications.replace(updated, current.version))) {
      const latest = await this.get(org, app);
      throw StorageErrors.versionMismatch(latest.version);
    }
    return updated;
  }

  async get(org: string, app: string): Promise<Application> {
    const application = await this.store.applications.get(`${org}/${app}`);
    if (!application) throw StorageErrors.applicationNotFound(`${org}/${app}`);
    return application;
  }

  list(org: string): Promise<Application[]> {
    return this.store.applications.listByOrg(org);
  }

  listAll(): Promise<Application[]> {
    return this.store.applications.listAll();
  }

  /**
   * Altinn's DELETE applications/{org}/{app}: by default the app is retired (validTo now: no new instances, existing
   * ones go on); `hard` removes the record, which storage allows only while no instance of the app exists, because
   * instances need their app's data types. Answers with the application as it was last.
   */
  async remove(principal: Principal, org: string, app: string, hard: boolean, expectedVersion?: number): Promise<Application> {
    authorizeApplicationWrite(principal, org, `${org}/${app}`);
    const current = await this.get(org, app);
    if (expectedVersion !== undefined && expectedVersion !== current.version) throw StorageErrors.versionMismatch(current.version);
    if (hard) {
      const [anyInstance] = await this.store.instances.query({ appIds: [current.id], limit: 1 });
      if (anyInstance) throw StorageErrors.applicationHasInstances(current.id);
      await this.store.applications.remove(current.id);
      return current;
    }
    const now = this.clock();
    if (current.validTo !== undefined && current.validTo <= now) return current;
    const retired: Application = { ...current, validTo: now, version: current.version + 1, lastChanged: now, lastChangedBy: principalId(principal) };
    if (!(await this.store.applications.replace(retired, current.version))) throw StorageErrors.versionMismatch((await this.get(org, app)).version);
    return retired;
  }

  private fromInput(
    input: ApplicationInput,
  ): Pick<Application, 'title' | 'dataTypes' | 'partyTypesAllowed' | 'processTasks' | 'validFrom' | 'validTo' | 'copyInstanceSettings' | 'dataFields' | 'presentationFields'> {
    const dataTypeIds = new Set<string>();
    for (const dataType of input.dataTypes) {
      if (dataTypeIds.has(dataType.id)) throw StorageErrors.invalid('DUPLICATE_DATA_TYPE', `Data type '${dataType.id}' is declared twice.`);
      if (dataType.maxCount > 0 && dataType.minCount > dataType.maxCount) {
        throw StorageErrors.invalid('INVALID_DATA_TYPE', `Data type '${dataType.id}' has minCount above maxCount.`);
      }
      dataTypeIds.add(dataType.id);
    }
    for (const excluded of input.copyInstanceSettings?.excludedDataTypes ?? []) {
      if (!dataTypeIds.has(excluded)) throw StorageErrors.invalid('INVALID_COPY_SETTINGS', `copyInstanceSettings.excludedDataTypes names '${excluded}', which is not a data type of the app.`);
    }
    for (const field of [...(input.dataFields ?? []), ...(input.presentationFields ?? [])]) {
      if (!dataTypeIds.has(field.dataTypeId)) throw StorageErrors.invalid('INVALID_DATA_FIELD', `Field '${field.id}' reads data type '${field.dataTypeId}', which is not a data type of the app.`);
    }
    return {
      title: input.title ?? {},
      dataTypes: input.dataTypes,
      partyTypesAllowed: input.partyTypesAllowed ?? NO_PARTY_TYPES_RESTRICTION,
      ...(input.processTasks && { processTasks: input.processTasks }),
      ...(input.validFrom && { validFrom: input.validFrom }),
      ...(input.validTo && { validTo: input.validTo }),
      ...(input.copyInstanceSettings && { copyInstanceSettings: input.copyInstanceSettings }),
      ...(input.dataFields && { dataFields: input.dataFields }),
      ...(input.presentationFields && { presentationFields: input.presentationFields }),
    };
  }
}
