import { groupByWrite, toCloudEvent, type AppBaseUrl } from './cloud-event';
import type { EventStore, StoredEvent } from './ports/event-store';
import type { StorageFeed } from './ports/storage-feed';

/**
 * Copies storage's change feed into the event store as CloudEvents, from the durable relay position on. Events
 * are stored before the position moves, and storing one twice is harmless, so a crash anywhere re-reads a page
 * and neither loses nor invents an event; several instances may relay at once.
 */
export class Relay {
  constructor(
    private readonly feed: StorageFeed,
    private readonly store: EventStore,
    private readonly apps: AppBaseUrl,
    private readonly pageSize: number,
  ) {}

  /** Relays one page; returns how many of storage's events it read (a full page means: call again at once). */
  async relayOnce(): Promise<{ read: number; stored: number }> {
    const after = await this.store.events.position();
    const page = await this.feed.read(after, this.pageSize);
    if (page.position <= after) return { read: 0, stored: 0 };
    const stored: StoredEvent[] = [];
    for (const write of groupByWrite(page.events)) {
      const event = toCloudEvent(write, this.apps);
      const first = write[0];
      if (!event || !first) continue;
      stored.push({ sequence: first.sequence, appId: first.appId, type: event.type, subject: event.subject, source: event.source, event });
    }
    await this.store.events.append(stored, page.position);
    return { read: page.events.length, stored: stored.length };
  }
}
