import { Readable } from 'node:stream';
import { multipartCreation, type InitialDataPart } from '../src/multipart';
import { creationRequest, INLINE_DATA_MAX_BYTES, type CreationRequest } from '../src/creation-request';

/** The multipart body the parts must make, written out by hand. */
function expected(boundary: string, instance: unknown, parts: { dataType: string; contentType: string; filename?: string; text: string }[]): string {
  const part = (name: string, type: string, filename: string | undefined, text: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}\r\nContent-Type: ${type}\r\n\r\n${text}\r\n`;
  return [part('instance', 'application/json', undefined, JSON.stringify(instance)), ...parts.map((p) => part(p.dataType, p.contentType, p.filename ?? '', p.text)), `--${boundary}--\r\n`].join('');
}

const boundaryOf = (contentType: string) => contentType.split('boundary=')[1] as string;

async function text(body: Buffer | Readable): Promise<string> {
  if (Buffer.isBuffer(body)) return body.toString();
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('multipartCreation', () => {
  const instance = { instanceOwner: { partyId: '50001' } };

  it('puts parts held in memory into one buffer, to be sent with a length in one write', async () => {
    const parts: InitialDataPart[] = [
      { dataType: 'model', contentType: 'application/json', body: '{"a":1}' },
      { dataType: 'notes', contentType: 'text/plain', filename: 'a "b".txt', body: Buffer.from('hello') },
    ];
    const { body, contentType } = await multipartCreation(instance, parts);
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(await text(body)).toBe(
      expected(boundaryOf(contentType), instance, [
        { dataType: 'model', contentType: 'application/json', text: '{"a":1}' },
        { dataType: 'notes', contentType: 'text/plain', filename: 'a %22b%22.txt', text: 'hello' },
      ]),
    );
  });

  it('streams from the first streamed part on, with the parts before it and after it in order', async () => {
    async function* parts(): AsyncGenerator<InitialDataPart> {
      yield { dataType: 'model', contentType: 'application/json', body: '{"a":1}' };
      yield { dataType: 'proof', contentType: 'application/pdf', body: Readable.from([Buffer.from('%PDF-'), Buffer.from('1.7')]) };
      yield { dataType: 'model2', contentType: 'application/json', body: '{"b":2}' };
      yield { dataType: 'photo', contentType: 'image/png', filename: 'p.png', body: Readable.from([Buffer.from('PNG')]) };
    }
    const { body, contentType } = await multipartCreation(instance, parts());
    expect(body).toBeInstanceOf(Readable);
    expect(await text(body)).toBe(
      expected(boundaryOf(contentType), instance, [
        { dataType: 'model', contentType: 'application/json', text: '{"a":1}' },
        { dataType: 'proof', contentType: 'application/pdf', text: '%PDF-1.7' },
        { dataType: 'model2', contentType: 'application/json', text: '{"b":2}' },
        { dataType: 'photo', contentType: 'image/png', filename: 'p.png', text: 'PNG' },
      ]),
    );
  });

  it('fails before any request when the parts fail before the first streamed one', async () => {
    async function* parts(): AsyncGenerator<InitialDataPart> {
      yield { dataType: 'model', contentType: 'application/json', body: '{}' };
      throw new Error('refused');
    }
    await expect(multipartCreation(instance, parts())).rejects.toThrow('refused');
  });
});

describe('creationRequest', () => {
  const instance = { instanceOwner: { partyId: '50001' } };
  const decoded = (request: CreationRequest) => ('json' in request ? request.json.data : undefined)?.map((part) => ({ ...part, content: Buffer.from(part.content, 'base64').toString() }));

  it('sends data held in memory inline in JSON, base64-encoded, in order', async () => {
    const request = await creationRequest(instance, [
      { dataType: 'model', contentType: 'application/json', body: '{"navn":"Åse"}' },
      { dataType: 'notes', contentType: 'text/plain', filename: 'a.txt', body: Buffer.from([0xff, 0x00, 0x41]) },
    ]);
    if (!('json' in request)) throw new Error('expected JSON');
    expect(request.json.instanceOwner).toEqual(instance.instanceOwner);
    expect(decoded(request)).toEqual([
      { dataType: 'model', contentType: 'application/json', content: '{"navn":"Åse"}' },
      { dataType: 'notes', contentType: 'text/plain', filename: 'a.txt', content: Buffer.from([0xff, 0x00, 0x41]).toString() },
    ]);
    expect(Buffer.from(request.json.data?.[1]?.content as string, 'base64')).toEqual(Buffer.from([0xff, 0x00, 0x41]));
    expect(await creationRequest(instance, [])).toEqual({ json: instance, parts: [] });
  });

  it('sends multipart, every part in order, from a streamed part on or once the data passes INLINE_DATA_MAX_BYTES', async () => {
    const streamed = await creationRequest(instance, [
      { dataType: 'model', contentType: 'application/json', body: '{"a":1}' },
      { dataType: 'proof', contentType: 'application/pdf', body: Readable.from([Buffer.from('%PDF-1.7')]) },
      { dataType: 'model2', contentType: 'application/json', body: '{"b":2}' },
    ]);
    if (!('body' in streamed)) throw new Error('expected multipart');
    expect(await text(streamed.body)).toBe(
      expected(boundaryOf(streamed.contentType), instance, [
        { dataType: 'model', contentType: 'application/json', text: '{"a":1}' },
        { dataType: 'proof', contentType: 'application/pdf', text: '%PDF-1.7' },
        { dataType: 'model2', contentType: 'application/json', text: '{"b":2}' },
      ]),
    );
    const half = 'x'.repeat(INLINE_DATA_MAX_BYTES / 2);
    const atLimit = await creationRequest(instance, [half, half].map((body) => ({ dataType: 'notes', contentType: 'text/plain', body })));
    expect('json' in atLimit).toBe(true);
    const overLimit = await creationRequest(instance, [half, `${half}x`].map((body) => ({ dataType: 'notes', contentType: 'text/plain', body })));
    if (!('body' in overLimit)) throw new Error('expected multipart');
    expect((await text(overLimit.body)).length).toBeGreaterThan(INLINE_DATA_MAX_BYTES);
  });
});
