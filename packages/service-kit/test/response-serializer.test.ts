import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Type } from '@sinclair/typebox';
import { Instance } from '@forms/contracts';
import { createServer } from '../src/server';
import { serializationSchema } from '../src/response-serializer';

const compile = (schema: unknown) => SerializerSelector()({}, {})({ schema, method: 'GET', url: '/', httpStatus: '200' } as never) as (value: unknown) => string;

const instanceDocument = (overrides: Record<string, unknown> = {}) => ({
  id: '50001/8d1b6a3c-8f55-4b1c-9a57-3f2d7c1e4a10',
  instanceOwner: { partyId: '50001', personNumber: '01017012345' },
  appId: 'ttd/form',
  org: 'ttd',
  selfLinks: { platform: 'http://storage/instances/50001/8d1b6a3c-8f55-4b1c-9a57-3f2d7c1e4a10' },
  dueBefore: null,
  visibleAfter: '2026-12-01T10:00:00.000Z',
  process: {
    started: '2026-12-01T10:00:00.000Z',
    startEvent: 'StartEvent_1',
    currentTask: { flow: 2, started: '2026-12-01T10:00:00.000Z', elementId: 'Task_1', altinnTaskType: 'data', ended: null },
    ended: null,
    endEvent: null,
  },
  status: { isArchived: false, archived: null, isSoftDeleted: false, isHardDeleted: false, readStatus: 'UpdatedSinceLastReview', substatus: null },
  completeConfirmations: [{ stakeholderId: 'ttd', confirmedOn: '2026-12-02T08:00:00.000Z' }],
  data: [],
  dataValues: { caseNumber: 'A-17', cleared: null },
  version: 3,
  created: '2026-12-01T10:00:00.000Z',
  createdBy: '50001',
  lastChanged: '2026-12-01T10:00:00.000Z',
  lastChangedBy: '50001',
  ...overrides,
});

describe('serializationSchema', () => {
  test('replaces nullable unions and string enums, and leaves the route schema (and so OpenAPI) as it was', () => {
    const schema = Type.Object({
      at: Type.Union([Type.Null(), Type.String({ format: 'date-time' })]),
      kind: Type.Union([Type.Literal('a'), Type.Literal('b')]),
      either: Type.Union([Type.String(), Type.Integer()]),
    });
    const before = JSON.stringify(schema);
    const rewritten = serializationSchema(schema);
    expect(rewritten.properties.at).toEqual({ type: 'string', format: 'date-time', nullable: true });
    expect(rewritten.properties.kind).toEqual({ type: 'string' });
    // A union of two real types still needs the value to pick its branch.
    expect(rewritten.properties.either).toHaveProperty('anyOf');
    expect(JSON.stringify(schema)).toBe(before);
  });

  test.each([
    ['with nulls', {}],
    ['with values where the nulls were', { dueBefore: '2026-12-24T12:00:00.000Z', process: { started: '2026-12-01T10:00:00.000Z', currentTask: null, ended: '2026-12-03T10:00:00.000Z', endEvent: 'EndEvent_1' } }],
    ['with a substatus', { status: { isArchived: true, archived: '2026-12-03T10:00:00.000Z', isSoftDeleted: false, isHardDeleted: false, readStatus: 'Read', substatus: { label: 'x', description: 'y' } } }],
  ])('writes an instance %s exactly as the schema as written does', (_name, overrides) => {
    const document = instanceDocument(overrides);
    const written = compile(serializationSchema(Instance))(document);
    expect(written).toBe(compile(Instance)(document));
    expect(JSON.parse(written)).toEqual(document);
  });

  test('every service answers through it: a nullable field of a response is written without validating it', async () => {
    const app = createServer({ name: 'serializer-test', logger: false });
    // Not a date-time: the union as written cannot pick a branch for it and fails; the nullable form writes it.
    app.get('/', { schema: { response: { 200: Type.Object({ at: Type.Union([Type.Null(), Type.String({ format: 'date-time' })]) }) } } }, async () => ({ at: 'not a time' }));
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ at: 'not a time' });
    await app.close();
  });
});
