import { request } from 'undici';
import { DomainError } from '@forms/contracts';
import type { FeedPage, StorageFeed } from '../domain/ports/storage-feed';

/** Storage's change feed over HTTP (`GET /feed` of storage), with the events service's own token. */
export class HttpStorageFeed implements StorageFeed {
  constructor(
    private readonly storageUrl: string,
    private readonly token: () => Promise<string>,
    private readonly timeoutMs = 10_000,
  ) {}

  async read(after: number, limit: number): Promise<FeedPage> {
    const url = `${this.storageUrl.replace(/\/$/, '')}/feed?after=${after}&size=${limit}`;
    const response = await request(url, {
      headers: { authorization: `Bearer ${await this.token()}`, accept: 'application/json' },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    if (response.statusCode !== 200) {
      const detail = await response.body.text().catch(() => '');
      throw new DomainError('unavailable', 'STORAGE_FEED_UNAVAILABLE', `storage's feed answered ${response.statusCode}: ${detail.slice(0, 300)}`);
    }
    return (await response.body.json()) as FeedPage;
  }
}
