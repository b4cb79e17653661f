import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';

/** What `login` remembers. The client secret or private key is never stored, only the token it got. */
export interface CliConfig {
  authUrl?: string;
  clientId?: string;
  scope?: string;
  accessToken?: string;
  /** ISO time. */
  expiresAt?: string;
  storageUrl?: string;
  appUrl?: string;
}

const FILE_NAME = 'config.json';
const STRING_KEYS: ReadonlyArray<keyof CliConfig> = ['authUrl', 'clientId', 'scope', 'accessToken', 'expiresAt', 'storageUrl', 'appUrl'];

/** `$FORMS_CONFIG_DIR`, else `~/.config/forms-cli`. */
export function defaultConfigDir(env: Record<string, string | undefined>): string {
  return env.FORMS_CONFIG_DIR || join(env.HOME || homedir(), '.config', 'forms-cli');
}

/**
 * The CLI's config file: JSON in a folder of mode 0700, the file itself 0600 (it holds a bearer token),
 * written atomically so a crash never leaves half a file.
 */
export class ConfigStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, FILE_NAME);
  }

  /** The stored config; empty when there is none yet. */
  async read(): Promise<CliConfig> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not valid JSON; remove it and log in again`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${this.path} is not a JSON object`);
    const config: CliConfig = {};
    for (const key of STRING_KEYS) {
      const value = (parsed as Record<string, unknown>)[key];
      if (typeof value === 'string') config[key] = value;
    }
    return config;
  }

  async write(config: CliConfig): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    // The mode given at creation is reduced by the umask, never widened; make sure of 0600 whatever the umask.
    await chmod(this.path, 0o600);
  }

  /** Merges `patch` into the stored config (undefined values remove keys). */
  async update(patch: Partial<Record<keyof CliConfig, string | undefined>>): Promise<CliConfig> {
    const config: Record<string, string | undefined> = { ...(await this.read()), ...patch };
    for (const key of Object.keys(config)) if (config[key] === undefined) delete config[key];
    await this.write(config as CliConfig);
    return config as CliConfig;
  }

  /** The file's permission bits, or undefined when there is no file. */
  async mode(): Promise<number | undefined> {
    try {
      return (await stat(this.path)).mode & 0o777;
    } catch {
      return undefined;
    }
  }
}
