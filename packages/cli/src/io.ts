import type { StorageApi, StorageClientOptions } from '@forms/client';
import type { WriteFile } from './atomic-file';

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Everything a command touches outside its arguments, so commands run the same in a terminal and in tests. */
export interface CliContext {
  stdout: Stream;
  stderr: Stream;
  env: Record<string, string | undefined>;
  /** Folder relative paths are resolved against. Default process.cwd(). */
  cwd?: string;
  now?: () => number;
  /** Ends commands that run until stopped (`events tail`, `sync --follow`): Ctrl-C in a terminal. */
  signal?: AbortSignal;
  /** Seams for tests. */
  createStorage?: (options: StorageClientOptions) => StorageApi;
  writeFile?: WriteFile;
}

/**
 * The folder the user ran forms-cli in, which relative paths (--file, --out, --dir, ...) are resolved against.
 * `npm run forms` and `pnpm forms` run the repository's script in the repository's root, even when called from
 * a folder below it or with `--prefix` from elsewhere, and keep the caller's folder in INIT_CWD.
 */
export function userFolder(env: Record<string, string | undefined>, cwd: string): string {
  const viaRepositoryScript = env.npm_lifecycle_event === 'forms' && env.npm_package_name === 'forms-platform';
  return viaRepositoryScript && env.INIT_CWD ? env.INIT_CWD : cwd;
}

/**
 * A one-line progress indicator on stderr, redrawn in place at most every 100 ms. Only when stderr is a terminal
 * and the output is not for a script (`--json`); otherwise every call is a no-op.
 */
export class Progress {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: Stream,
    readonly enabled: boolean,
  ) {}

  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(`\r\x1b[K${text}`);
  }

  /** Clears the line, so the next output starts on a clean one. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `12.0 MB / 40.0 MB (30 %)`, or without total when it is unknown. */
export function transferLine(label: string, bytes: number, total?: number): string {
  if (!total) return `${label} ${formatBytes(bytes)}`;
  return `${label} ${formatBytes(bytes)} / ${formatBytes(total)} (${Math.floor((bytes / total) * 100)} %)`;
}
