import type { InstanceEvent } from '@forms/contracts';
import type { EventQuery, InstanceEventRepository } from './ports/metadata-store';

/** How many events of an instance are read at a time: an audit log of any length is listed in bounded memory. */
export const EVENT_PAGE_SIZE = 500;

/** The events of an instance that `query` asks for, in order, one page at a time; a page is read when the caller asks for it. */
export async function* eventPages(
  events: InstanceEventRepository,
  instanceId: string,
  query: EventQuery,
  pageSize = EVENT_PAGE_SIZE,
): AsyncGenerator<InstanceEvent[], void, undefined> {
  let after = query.after;
  for (;;) {
    const page = await events.list(instanceId, { ...query, ...(after && { after }), limit: pageSize });
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (page.length < pageSize || !last) return;
    after = { created: last.created, id: last.id };
  }
}
