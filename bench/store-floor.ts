// The floor under storage's POST instance: bare Fastify (as bench/bare.mjs) plus only the durable write a creation
// makes, through storage's own embedded store: the instance and its Created event in one transaction, answered
// after the group commit's log sync. No token check, authorisation, validation or domain rules: what is left
// between this and bare Fastify is the cost of the write itself, and what is left between storage and this is the
// rest of the platform. Run with tsx (`node --import tsx`); a reference for the bench, not a service.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { timeOrderedUuid, type Instance, type InstanceEvent } from '../packages/contracts/src';
import { SqliteMetadataStore } from '../services/storage/src/adapters/metadata/sqlite/sqlite-metadata-store';

const template = JSON.parse(process.env.BARE_INSTANCE ?? '{}') as Instance;
const folder = mkdtempSync(join(tmpdir(), 'bench-floor-'));
const store = new SqliteMetadataStore(folder);

const app = Fastify({ logger: false });
app.post('/*', async (request, reply) => {
  if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send({ error: 'JSON object expected' });
  // New ids are time-ordered, as storage's are (ADR 0019): a batch's keys share the last page of each index.
  const created = new Date().toISOString();
  const instance: Instance = { ...template, id: `${template.instanceOwner.partyId}/${timeOrderedUuid()}`, created, lastChanged: created };
  const event: InstanceEvent = {
    id: timeOrderedUuid(),
    instanceId: instance.id,
    eventType: 'Created',
    created,
    instanceOwnerPartyId: instance.instanceOwner.partyId,
    user: { userId: '1001' },
  };
  await store.instances.insert(instance, { events: [event] });
  return reply.code(201).type('application/json; charset=utf-8').send(JSON.stringify(instance));
});

async function main(): Promise<void> {
  await store.init();
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 5298) });
  console.log('listening');
}

void main();
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => store.close())
    .then(() => {
      rmSync(folder, { recursive: true, force: true });
      process.exit(0);
    });
});
