import { createPublicKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';
import { DomainError } from '@forms/contracts';
import { DuplicateClientError, type ClientCredential, type ClientRecord, type ClientStore } from './ports/client-store';
import { generateClientSecret, hashClientSecret } from './secrets';
import { scopesNotPermitted, type TokenSubject } from './subjects';

export type { ClientCredential, ClientRecord };

/** A client as shown to administrators: everything but the secret's hash. */
export interface ClientView {
  clientId: string;
  name?: string;
  subject: TokenSubject;
  scopes: string[];
  authMethod: 'private_key_jwt' | 'client_secret';
  publicJwk?: JWK;
  createdAt: string;
}

/**
 * What an administrator registers. `org`: an org's integration (org + orgNumber); with `app` (`<org>/<app>`) it is
 * that app service's own client, whose tokens name the app (storage then lets it act for parties in that app). `system`: an end-user
 * system for a party; with a userId it acts as that user (user-bound). `user` is the same as a system with a userId.
 * With `publicKey` (JWK or PEM) the client authenticates with signed assertions; without, a secret is generated.
 */
export interface ClientRegistration {
  clientId?: string;
  name?: string;
  kind: 'org' | 'system' | 'user';
  org?: string;
  orgNumber?: string;
  app?: string;
  partyId?: string;
  userId?: string;
  systemId?: string;
  authLevel?: number;
  scopes: string[];
  publicKey?: JWK | string;
}

export interface RegisteredClient {
  client: ClientView;
  /** Only for secret clients, and only in this answer: it is not stored. */
  clientSecret?: string;
}

export const CLIENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
const ORG_PATTERN = /^[a-z][a-z0-9-]{1,63}$/;
const ORG_NUMBER_PATTERN = /^[0-9]{9}$/;
const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{1,63}$/;
const ID_PATTERN = /^[1-9][0-9]{0,17}$/;
const SYSTEM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MIN_RSA_BITS = 2048;

const invalid = (code: string, message: string) => new DomainError('invalid', code, message);

/** Registering, listing and removing clients. Used by the admin API and the CLI alike, so both validate the same way. */
export class ClientRegistry {
  constructor(
    private readonly store: ClientStore,
    private readonly now: () => number = Date.now,
  ) {}

  async register(registration: ClientRegistration): Promise<RegisteredClient> {
    const clientId = registration.clientId ?? randomUUID();
    if (!new RegExp(CLIENT_ID_PATTERN).test(clientId)) throw invalid('INVALID_CLIENT_ID', `client id "${clientId}" must match ${CLIENT_ID_PATTERN}`);
    const subject = subjectOf(registration, clientId);
    const scopes = [...new Set(registration.scopes)];
    if (scopes.length === 0) throw invalid('INVALID_SCOPES', 'a client needs at least one scope');
    const refused = scopesNotPermitted(subject.kind, scopes);
    if (refused.length > 0) {
      throw invalid('INVALID_SCOPES', `scopes not allowed for a client of kind ${subject.kind}: ${refused.join(' ')}`);
    }

    let clientSecret: string | undefined;
    let credential: ClientCredential;
    if (registration.publicKey !== undefined) {
      credential = { method: 'private_key_jwt', publicJwk: await publicJwkFrom(registration.publicKey) };
    } else {
      clientSecret = generateClientSecret();
      credential = { method: 'client_secret', secretHash: await hashClientSecret(clientSecret) };
    }
    const record: ClientRecord = {
      clientId,
      ...(registration.name !== undefined ? { name: registration.name } : {}),
      subject,
      scopes,
      credential,
      createdAt: new Date(this.now()).toISOString(),
    };
    try {
      await this.store.insertClient(record);
    } catch (error) {
      if (error instanceof DuplicateClientError) throw new DomainError('conflict', 'CLIENT_EXISTS', `a client with id ${clientId} exists`);
      throw error;
    }
    return { client: viewOf(record), ...(clientSecret !== undefined ? { clientSecret } : {}) };
  }

  async list(): Promise<ClientView[]> {
    return (await this.store.listClients()).map(viewOf);
  }

  async get(clientId: string): Promise<ClientView> {
    const record = await this.store.getClient(clientId);
    if (!record) throw new DomainError('not_found', 'CLIENT_NOT_FOUND', `no client with id ${clientId}`);
    return viewOf(record);
  }

  async remove(clientId: string): Promise<void> {
    if (!(await this.store.deleteClient(clientId))) throw new DomainError('not_found', 'CLIENT_NOT_FOUND', `no client with id ${clientId}`);
  }
}

export function viewOf(record: ClientRecord): ClientView {
  return {
    clientId: record.clientId,
    ...(record.name !== undefined ? { name: record.name } : {}),
    subject: record.subject,
    scopes: record.scopes,
    authMethod: record.credential.method,
    ...(record.credential.method === 'private_key_jwt' ? { publicJwk: record.credential.publicJwk } : {}),
    createdAt: record.createdAt,
  };
}

function required(value: string | undefined, name: string, pattern: RegExp, kind: string): string {
  if (value === undefined) throw invalid('INVALID_CLIENT', `a client of kind ${kind} needs ${name}`);
  if (!pattern.test(value)) throw invalid('INVALID_CLIENT', `${name} "${value}" must match ${pattern.source}`);
  return value;
}

function subjectOf(registration: ClientRegistration, clientId: string): TokenSubject {
  const { kind } = registration;
  const misplaced = (names: (keyof ClientRegistration)[]) => names.filter((name) => registration[name] !== undefined);
  if (kind === 'org') {
    const extra = misplaced(['partyId', 'userId', 'systemId', 'authLevel']);
    if (extra.length > 0) throw invalid('INVALID_CLIENT', `an org client has no ${extra.join(', ')}`);
    const org = required(registration.org, 'org', ORG_PATTERN, kind);
    const { app } = registration;
    if (app !== undefined && !(app.startsWith(`${org}/`) && APP_NAME_PATTERN.test(app.slice(org.length + 1)))) {
      throw invalid('INVALID_CLIENT', `app "${app}" must be "${org}/<app>", an app of the client's org`);
    }
    return { kind: 'org', org, orgNumber: required(registration.orgNumber, 'orgNumber', ORG_NUMBER_PATTERN, kind), ...(app !== undefined && { app }) };
  }
  const extra = misplaced(['org', 'orgNumber', 'app']);
  if (extra.length > 0) throw invalid('INVALID_CLIENT', `a ${kind} client has no ${extra.join(', ')}`);
  const partyId = required(registration.partyId, 'partyId', ID_PATTERN, kind);
  if (kind === 'user' || registration.userId !== undefined) {
    if (registration.systemId !== undefined) throw invalid('INVALID_CLIENT', 'a user-bound client has a userId, not a systemId');
    const authLevel = registration.authLevel ?? 0;
    if (!Number.isInteger(authLevel) || authLevel < 0 || authLevel > 4) throw invalid('INVALID_CLIENT', 'authLevel must be 0 to 4');
    return { kind: 'user', userId: required(registration.userId, 'userId', ID_PATTERN, 'user'), partyId, authLevel };
  }
  if (registration.authLevel !== undefined) throw invalid('INVALID_CLIENT', 'authLevel applies to user-bound clients only');
  const systemId = registration.systemId ?? clientId;
  if (!SYSTEM_ID_PATTERN.test(systemId)) throw invalid('INVALID_CLIENT', `systemId "${systemId}" must match ${SYSTEM_ID_PATTERN.source}`);
  return { kind: 'system', systemId, partyId };
}

/**
 * Normalises a client's public key (JWK or PEM) to a public JWK. Refuses private or symmetric key
 * material: a symmetric key would let the client's "signature" be an HMAC anyone holding the JWK can make.
 */
export async function publicJwkFrom(input: JWK | string): Promise<JWK> {
  let key: KeyObject;
  try {
    if (typeof input === 'string') {
      if (/PRIVATE KEY/.test(input)) throw invalid('INVALID_PUBLIC_KEY', 'send the public key only, never the private key');
      key = createPublicKey(input.replace(/\\n/g, '\n'));
    } else {
      if (input.kty === 'oct' || input.k !== undefined) throw invalid('INVALID_PUBLIC_KEY', 'a symmetric key cannot sign client assertions');
      if (input.d !== undefined) throw invalid('INVALID_PUBLIC_KEY', 'send the public key only, never the private key');
      key = createPublicKey({ key: input as JsonWebKey, format: 'jwk' });
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw invalid('INVALID_PUBLIC_KEY', 'publicKey is neither a public JWK nor a public key PEM');
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) throw invalid('INVALID_PUBLIC_KEY', `RSA keys need at least ${MIN_RSA_BITS} bits`);
  } else if (type !== 'ec' && type !== 'ed25519') {
    throw invalid('INVALID_PUBLIC_KEY', `key type ${type ?? 'unknown'} is not supported; use RSA, EC (P-256/384/521) or Ed25519`);
  }
  const jwk = await exportJWK(key);
  // Keep the client's kid and alg: a kid lets it say which key signed, a fixed alg narrows what we accept.
  if (typeof input !== 'string') {
    if (typeof input.kid === 'string') jwk.kid = input.kid;
    if (typeof input.alg === 'string') jwk.alg = input.alg;
  }
  return jwk;
}
