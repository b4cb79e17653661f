import type { ClientStore } from './domain/ports/client-store';

interface StoreOptions {
  timeWindow?: unknown;
  routeInfo?: { method?: string | string[]; url?: string };
}

type IncrementCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit that counts in the ClientStore (MongoDB or SQLite), so a limit holds for
 * every replica of the token service together rather than for each on its own. Each limited route counts
 * under its own prefix, as the plugin's in-memory store keeps one counter set per route.
 */
export function sharedRateLimitStore(store: ClientStore) {
  return class SharedRateLimitStore {
    private readonly prefix: string;
    private readonly timeWindow: number;

    constructor(options: object = {}) {
      const { routeInfo: route, timeWindow } = options as StoreOptions;
      this.prefix = route?.url ? `${String(route.method)} ${route.url} ` : '';
      this.timeWindow = typeof timeWindow === 'number' ? timeWindow : 60_000;
    }

    /** The plugin passes the route's window (milliseconds) as the third argument. */
    incr(key: string, callback: IncrementCallback, timeWindow?: number): void {
      store.countHit(`${this.prefix}${key}`, timeWindow ?? this.timeWindow).then(
        ({ count, resetInMs }) => callback(null, { current: count, ttl: resetInMs }),
        (error: Error) => callback(error),
      );
    }

    /** Typed by the plugin as the route's options; what it passes is those merged with the limit's, `routeInfo` the route. */
    child(routeOptions: object) {
      return new SharedRateLimitStore(routeOptions as StoreOptions);
    }
  };
}
