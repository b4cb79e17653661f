import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { attachmentDisposition, ContentInspector, contentMatchesDeclaredType, filenameFromContentDisposition, HEAD_BYTES, headMatchesDeclaredType, InvalidContentDisposition, safeFilename } from '../src';

const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(120, 0)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n'), Buffer.alloc(6000, 0x20), Buffer.from('%%EOF\n')]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]), Buffer.alloc(256, 1)]);

class Mismatch extends Error {}

/** Streams `content` through an inspector in `chunkSize` pieces; resolves with what came out. */
async function inspect(content: Buffer, contentType: string, chunkSize = 1000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < content.length; i += chunkSize) chunks.push(content.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    new ContentInspector(contentType, () => new Mismatch('mismatch')),
    new Writable({ write: (chunk: Buffer, _e, done) => (out.push(chunk), done()) }),
  );
  return Buffer.concat(out);
}

describe('content check', () => {
  it('accepts what the content is and passes it through unchanged', async () => {
    expect((await inspect(PDF, 'application/pdf')).equals(PDF)).toBe(true);
    expect((await inspect(PNG, 'image/png', 7)).equals(PNG)).toBe(true);
    expect((await inspect(Buffer.from('{"a":1}'), 'application/json')).toString()).toBe('{"a":1}');
    expect((await inspect(ELF, 'application/octet-stream')).equals(ELF)).toBe(true);
  });

  it('refuses an ELF binary claimed to be a PDF, a PNG or text', async () => {
    for (const type of ['application/pdf', 'image/png', 'text/plain', 'application/json']) {
      await expect(inspect(ELF, type)).rejects.toBeInstanceOf(Mismatch);
    }
  });

  it('refuses %PDF- followed by an ELF, and a PDF without its %%EOF trailer, also when the head looks fine', async () => {
    await expect(inspect(Buffer.concat([Buffer.from('%PDF-'), ELF]), 'application/pdf')).rejects.toBeInstanceOf(Mismatch);
    const noTrailer = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(HEAD_BYTES * 3, 0x20), ELF]);
    await expect(inspect(noTrailer, 'application/pdf', 4096)).rejects.toBeInstanceOf(Mismatch);
    await expect(inspect(Buffer.concat([PDF, ELF]), 'application/pdf')).rejects.toBeInstanceOf(Mismatch);
  });

  it('refuses a PNG claimed to be a PDF, and empty content claimed to be a PNG', async () => {
    await expect(inspect(PNG, 'application/pdf')).rejects.toBeInstanceOf(Mismatch);
    expect(headMatchesDeclaredType(Buffer.alloc(0), 'image/png')).toBe(false);
    expect(headMatchesDeclaredType(Buffer.from('plain words\0'), 'text/plain')).toBe(false);
  });

  it('judges content in memory as the inspector judges it streamed', async () => {
    const noTrailer = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(HEAD_BYTES * 3, 0x20), ELF]);
    const cases: [Buffer, string][] = [
      [PDF, 'application/pdf'],
      [PNG, 'image/png'],
      [Buffer.from('{"a":1}'), 'application/json; charset=utf-8'],
      [ELF, 'application/octet-stream'],
      [ELF, 'text/plain'],
      [PNG, 'application/pdf'],
      [noTrailer, 'application/pdf'],
      [Buffer.concat([PDF, ELF]), 'application/pdf'],
      [Buffer.from('%PDF-1.7\n%%EOF\n'), 'application/x-pdf'],
    ];
    for (const [content, type] of cases) {
      const streamed = await inspect(content, type).then(() => true, () => false);
      expect([type, contentMatchesDeclaredType(content, type)]).toEqual([type, streamed]);
    }
    expect(cases.map(([content, type]) => contentMatchesDeclaredType(content, type))).toEqual([true, true, true, true, false, false, false, false, true]);
  });
});

describe('filenames', () => {
  it('drops control characters and bidi overrides, and path separators', () => {
    expect(safeFilename('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(safeFilename('a\u0000b\r\nc\u0085.pdf')).toBe('abc.pdf');
    expect(safeFilename('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeFilename('\u2066\u2069')).toBeUndefined();
  });

  it('decodes filename* and raw UTF-8 names alike', () => {
    expect(filenameFromContentDisposition("attachment; filename=\"x.pdf\"; filename*=UTF-8''S%C3%B8knad%20%E2%82%AC.pdf")).toBe('Søknad €.pdf');
    const raw = Buffer.from('attachment; filename="Søknad.pdf"', 'utf8').toString('latin1');
    expect(filenameFromContentDisposition(raw)).toBe('Søknad.pdf');
    expect(filenameFromContentDisposition('attachment; filename="caf\u00e9.pdf"')).toBe('café.pdf');
    expect(filenameFromContentDisposition("attachment; filename*=UTF-8''evil%E2%80%AEfdp.exe")).toBe('evilfdp.exe');
    expect(() => filenameFromContentDisposition('attachment; filename="unterminated')).toThrow(InvalidContentDisposition);
  });

  it('always answers attachment, with the name when there is one', () => {
    expect(attachmentDisposition(undefined)).toBe('attachment');
    expect(attachmentDisposition('Søknad €.pdf')).toBe('attachment; filename="Søknad ?.pdf"; filename*=UTF-8\'\'S%C3%B8knad%20%E2%82%AC.pdf');
    expect(attachmentDisposition('a\u202Eb.pdf')).toBe('attachment; filename="ab.pdf"');
  });
});
