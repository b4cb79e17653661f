/** Reading the deployment files (compose, Dockerfile, Kubernetes manifests) and what they must agree with. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { AppServiceConfigSchema } from '../../../services/app/src/config';
import { AuthConfigSchema } from '../../../services/auth/src/config';
import { EventsConfigSchema } from '../../../services/events/src/config';
import { StorageConfigSchema } from '../../../services/storage/src/config';

export const ROOT = join(__dirname, '..', '..', '..');
export const DOCKERFILE = 'deploy/Dockerfile';
export const K8S_DIR = 'deploy/k8s';

export type Yaml = Record<string, unknown>;

export const readText = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
export const exists = (path: string): boolean => existsSync(join(ROOT, path));
export const isRecord = (value: unknown): value is Yaml => typeof value === 'object' && value !== null && !Array.isArray(value);
export const record = (value: unknown): Yaml => (isRecord(value) ? value : {});
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const readYaml = (path: string): Yaml => record(parse(readText(path)));
export function readYamlDocuments(path: string): Yaml[] {
  return parseAllDocuments(readText(path)).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((error) => error.message).join('; ')}`);
    return record(document.toJS());
  });
}

/** The services deploy/Dockerfile can build, and the configuration schema each of them reads. */
export const CONFIG_SCHEMAS = {
  storage: StorageConfigSchema,
  auth: AuthConfigSchema,
  events: EventsConfigSchema,
  app: AppServiceConfigSchema,
} as const;
export type ServiceName = keyof typeof CONFIG_SCHEMAS;
export const isServiceName = (name: string): name is ServiceName => name in CONFIG_SCHEMAS;

/** apps/<org>/<app> ids in the repository. */
export function repoApps(): string[] {
  const apps: string[] = [];
  for (const org of readdirSync(join(ROOT, 'apps'), { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    for (const app of readdirSync(join(ROOT, 'apps', org.name), { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
      if (exists(join('apps', org.name, app.name, 'applicationmetadata.json'))) apps.push(`${org.name}/${app.name}`);
    }
  }
  return apps.sort();
}

/** Environment variables a file reads: `process.env.X` / `env.X` in JavaScript, `$X` / `${X}` in a shell script. */
export function variablesReadBy(path: string): Set<string> {
  const text = readText(path);
  const pattern = path.endsWith('.sh') ? /\$\{?([A-Z][A-Z0-9_]*)/g : /\benv\.([A-Z][A-Z0-9_]*)/g;
  return new Set([...text.matchAll(pattern)].map((match) => match[1] as string));
}

/** The variable names a service takes: its config schema's. */
export function acceptedVariables(service: string): Set<string> {
  if (!isServiceName(service)) throw new Error(`no config schema for service ${service}`);
  return new Set(Object.keys(CONFIG_SCHEMAS[service].properties));
}

/** The Dockerfile as instructions: ARG names, stage names, `FROM` lines and local COPY sources. */
export function readDockerfile(): { args: Set<string>; stages: Set<string>; froms: string[]; copySources: string[]; env: Map<string, string>; text: string } {
  const text = readText(DOCKERFILE);
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const args = new Set<string>();
  const stages = new Set<string>();
  const froms: string[] = [];
  const copySources: string[] = [];
  const env = new Map<string, string>();
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    switch (instruction?.toUpperCase()) {
      case 'ARG':
        args.add((rest[0] ?? '').split('=')[0] as string);
        break;
      case 'FROM': {
        froms.push(rest.join(' '));
        const as = rest.findIndex((word) => word.toUpperCase() === 'AS');
        if (as >= 0 && rest[as + 1]) stages.add(rest[as + 1] as string);
        break;
      }
      case 'COPY': {
        if (rest.some((word) => word.startsWith('--from='))) break;
        const paths = rest.filter((word) => !word.startsWith('--'));
        copySources.push(...paths.slice(0, -1));
        break;
      }
      case 'ENV':
        for (const [, name, value] of rest.join(' ').matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)) env.set(name as string, value as string);
        break;
    }
  }
  return { args, stages, froms, copySources, env, text };
}

/** The environment an image sets (Dockerfile ENV), with ${APP} filled in. */
export function imageEnvironment(app: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of readDockerfile().env) env[name] = value.replace(/\$\{APP\}/g, app ?? '');
  if (app === undefined) delete env.APP_DIR;
  return env;
}

/** host:port of an http(s) URL, e.g. `auth:5100`. */
export function hostAndPort(url: string): { host: string; port: string; path: string } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port || (parsed.protocol === 'https:' ? '443' : '80'), path: parsed.pathname };
}
