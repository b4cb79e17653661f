import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Deterministic pseudo-random bytes, generated chunk by chunk so large bodies are never held whole. */
export function pseudoRandomStream(totalBytes: number, seed = 1, chunkSize = 64 * 1024): Readable {
  let state = seed >>> 0 || 1;
  let remaining = totalBytes;
  return new Readable({
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkSize, remaining);
      const chunk = Buffer.allocUnsafe(Math.ceil(size / 4) * 4);
      for (let offset = 0; offset < chunk.length; offset += 4) {
        // xorshift32
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        chunk.writeUInt32LE(state >>> 0, offset);
      }
      remaining -= size;
      this.push(chunk.subarray(0, size));
    },
  });
}

export async function sha256Of(stream: AsyncIterable<Buffer | string>): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(buffer);
    size += buffer.length;
  }
  return { hash: hash.digest('hex'), size };
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
