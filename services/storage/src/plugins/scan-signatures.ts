import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { seesScanSignatures, withoutScanSignatures } from '../domain/scan-signature';

/**
 * Every answer of the API passes here before it is serialised: callers who may not see the names of malware found
 * (parties, also through their app) get instances and data elements without `fileScanSignature`. One hook rather than
 * a step in each route, so that no route (a new one included) can hand the name to a party.
 */
export const scanSignatures = fp(
  async function scanSignatures(app: FastifyInstance) {
    // Callback style: a hook on every answer should not cost a promise.
    app.addHook('preSerialization', (request, _reply, payload: unknown, done) => {
      done(null, seesScanSignatures(request.principal) ? payload : withoutScanSignatures(payload));
    });
  },
  { name: 'scan-signatures' },
);
