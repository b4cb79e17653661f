import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Deterministic pseudo-random bytes (an AES-256-CTR keystream of the seed), generated chunk by chunk so
 * large bodies are never held whole; native AES keeps generation far faster than the code under test.
 */
export function pseudoRandomStream(totalBytes: number, seed = 1, chunkSize = 64 * 1024): Readable {
  const key = createHash('sha256').update(`seed:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunkSize);
  let remaining = totalBytes;
  return new Readable({
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkSize, remaining);
      remaining -= size;
      this.push(cipher.update(zeros.subarray(0, size)));
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
