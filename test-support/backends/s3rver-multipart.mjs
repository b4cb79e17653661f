// s3rver 3.7 implements multipart uploads only as far as creating, uploading parts and completing. This
// Koa middleware adds the three S3 operations it lacks, on s3rver's own upload folders, following the S3
// API: ListMultipartUploads (GET /bucket?uploads), ListParts (GET /bucket/key?uploadId=) and
// AbortMultipartUpload (DELETE /bucket/key?uploadId=). It does not check signatures (a test stand-in) and
// answers in one page. Real S3 and MinIO have these operations themselves.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xml = (ctx, status, body) => {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
};
const noSuchUpload = (ctx, uploadId) =>
  xml(ctx, 404, `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${escape(uploadId)}</UploadId></Error>`);

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function multipartExtension(store) {
  const uploadsFolder = (bucket) => store.getResourcePath(bucket, undefined, 'uploads');

  async function listUploads(ctx, bucket, prefix) {
    const folder = uploadsFolder(bucket);
    const ids = (await exists(folder)) ? await readdir(folder) : [];
    const uploads = [];
    for (const id of ids) {
      const keyFile = join(folder, id, 'key');
      if (!(await exists(keyFile))) continue;
      const key = (await readFile(keyFile)).toString();
      if (prefix && !key.startsWith(prefix)) continue;
      uploads.push({ key, id, initiated: (await stat(keyFile)).mtime });
    }
    uploads.sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key < b.key ? -1 : 1));
    const entries = uploads
      .map((u) => `<Upload><Key>${escape(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`)
      .join('');
    xml(
      ctx,
      200,
      `<ListMultipartUploadsResult xmlns="${NS}"><Bucket>${escape(bucket)}</Bucket><Prefix>${escape(prefix ?? '')}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${entries}</ListMultipartUploadsResult>`,
    );
  }

  async function listParts(ctx, bucket, key, uploadId) {
    const folder = join(uploadsFolder(bucket), uploadId);
    if (!/^[0-9a-f]+$/.test(uploadId) || !(await exists(folder))) return noSuchUpload(ctx, uploadId);
    const parts = [];
    for (const name of await readdir(folder)) {
      if (!/^\d+$/.test(name)) continue;
      const file = join(folder, name);
      const info = await stat(file);
      const md5 = (await exists(`${file}.md5`)) ? (await readFile(`${file}.md5`)).toString() : '';
      parts.push({ number: Number(name), modified: info.mtime, size: info.size, md5 });
    }
    parts.sort((a, b) => a.number - b.number);
    const entries = parts
      .map((p) => `<Part><PartNumber>${p.number}</PartNumber><LastModified>${p.modified.toISOString()}</LastModified><ETag>"${p.md5}"</ETag><Size>${p.size}</Size></Part>`)
      .join('');
    xml(
      ctx,
      200,
      `<ListPartsResult xmlns="${NS}"><Bucket>${escape(bucket)}</Bucket><Key>${escape(key)}</Key><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${entries}</ListPartsResult>`,
    );
  }

  async function abort(ctx, bucket, uploadId) {
    const folder = join(uploadsFolder(bucket), uploadId);
    if (!/^[0-9a-f]+$/.test(uploadId) || !(await exists(folder))) return noSuchUpload(ctx, uploadId);
    await rm(folder, { recursive: true, force: true });
    ctx.status = 204;
  }

  return async function s3rverMultipartExtension(ctx, next) {
    const url = new URL(ctx.url, 'http://stand-in');
    const [bucketSegment, ...keySegments] = url.pathname.slice(1).split('/');
    const bucket = decodeURIComponent(bucketSegment ?? '');
    const key = keySegments.map(decodeURIComponent).join('/');
    const uploadId = url.searchParams.get('uploadId');
    if (ctx.method === 'GET' && bucket && !key && url.searchParams.has('uploads')) {
      return listUploads(ctx, bucket, url.searchParams.get('prefix') ?? undefined);
    }
    if (ctx.method === 'GET' && key && uploadId) return listParts(ctx, bucket, key, uploadId);
    if (ctx.method === 'DELETE' && key && uploadId) return abort(ctx, bucket, uploadId);
    return next();
  };
}
