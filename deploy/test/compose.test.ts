/** docker-compose.yml and deploy/Dockerfile agree with each other and with the services' configuration. */
import { loadConfig } from '@forms/service-kit';
import { loadAppServiceConfig } from '../../services/app/src/config';
import { loadAuthConfig } from '../../services/auth/src/config';
import {
  CONFIG_SCHEMAS,
  DOCKERFILE,
  acceptedVariables,
  exists,
  hostAndPort,
  imageEnvironment,
  isRecord,
  isServiceName,
  list,
  readDockerfile,
  readText,
  readYaml,
  record,
  repoApps,
  variablesReadBy,
  type Yaml,
} from './support/deploy-files';

const compose = readYaml('docker-compose.yml');
const services = record(compose.services);
const names = Object.keys(services);

interface Built {
  name: string;
  service: string;
  app: string | undefined;
  env: Record<string, string>;
  definition: Yaml;
}

const stringEnv = (definition: Yaml): Record<string, string> => {
  const environment = definition.environment;
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((entry) => String(entry).split(/=(.*)/s).slice(0, 2) as [string, string]));
  }
  return Object.fromEntries(Object.entries(record(environment)).map(([key, value]) => [key, String(value)]));
};

/** Services built from our Dockerfile, with the SERVICE (and APP) they are built as. */
const built: Built[] = names
  .filter((name) => isRecord(record(services[name]).build))
  .map((name) => {
    const definition = record(services[name]);
    const args = record(record(definition.build).args);
    return { name, service: String(args.SERVICE), app: args.APP === undefined ? undefined : String(args.APP), env: stringEnv(definition), definition };
  });
const builtAs = (service: string) => built.filter((entry) => entry.service === service);
const dependsOn = (definition: Yaml): Record<string, Yaml> => {
  const value = definition.depends_on;
  return Array.isArray(value) ? Object.fromEntries(value.map((name) => [String(name), { condition: 'service_started' }])) : (record(value) as Record<string, Yaml>);
};

/** Services that others wait to complete: one-shot jobs, which need no healthcheck. */
const oneShot = new Set(
  names.flatMap((name) =>
    Object.entries(dependsOn(record(services[name])))
      .filter(([, dependency]) => dependency.condition === 'service_completed_successfully')
      .map(([target]) => target),
  ),
);

/** Which of our services a compose service runs, also for a job that runs in one of our images. */
const serviceOf = (name: string): string | undefined => built.find((entry) => entry.name === name)?.service;

describe('docker-compose.yml', () => {
  it('builds every service from deploy/Dockerfile, with build args the Dockerfile declares and services and apps that exist', () => {
    const dockerfile = readDockerfile();
    expect(built.length).toBeGreaterThan(0);
    for (const { name, service, app, definition } of built) {
      const build = record(definition.build);
      expect({ name, context: build.context, dockerfile: build.dockerfile }).toEqual({ name, context: '.', dockerfile: DOCKERFILE });
      expect(exists(String(build.dockerfile))).toBe(true);
      for (const arg of Object.keys(record(build.args))) expect({ name, arg, declared: dockerfile.args.has(arg) }).toEqual({ name, arg, declared: true });
      expect({ name, service, known: service in CONFIG_SCHEMAS && exists(`services/${service}/src/server.ts`) }).toEqual({ name, service, known: true });
      if (service === 'app') {
        expect({ name, app, exists: app !== undefined && repoApps().includes(app) }).toEqual({ name, app, exists: true });
      } else {
        expect({ name, app }).toEqual({ name, app: undefined });
      }
    }
  });

  it('runs the token service, storage and every example app', () => {
    expect(builtAs('auth').length).toBeGreaterThan(0);
    expect(builtAs('storage').length).toBe(1);
    expect(builtAs('app').map((entry) => entry.app).sort()).toEqual(repoApps());
  });

  it('depends only on services that exist, with conditions those services can meet', () => {
    for (const name of names) {
      for (const [target, dependency] of Object.entries(dependsOn(record(services[name])))) {
        expect({ name, target, exists: names.includes(target) }).toEqual({ name, target, exists: true });
        const condition = dependency.condition;
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') {
          expect({ name, target, healthcheck: isRecord(record(services[target]).healthcheck) }).toEqual({ name, target, healthcheck: true });
        }
      }
    }
  });

  it('has a healthcheck for every long-running service, probing the port the service listens on', () => {
    for (const name of names.filter((candidate) => !oneShot.has(candidate))) {
      const healthcheck = record(record(services[name]).healthcheck);
      expect({ name, test: Array.isArray(healthcheck.test) }).toEqual({ name, test: true });
      const entry = built.find((candidate) => candidate.name === name);
      if (entry) {
        const port = entry.env.PORT;
        expect({ name, probes: list(healthcheck.test).join(' ') }).toEqual({ name, probes: expect.stringContaining(`127.0.0.1:${port}/ready`) });
      }
    }
  });

  it('publishes each of our services on the port it listens on', () => {
    for (const { name, env, definition } of built.filter((entry) => !oneShot.has(entry.name))) {
      expect({ name, ports: list(definition.ports).map(String) }).toEqual({ name, ports: [`${env.PORT}:${env.PORT}`] });
    }
    expect(builtAs('app').map(({ app, env }) => [app, env.PORT])).toEqual(
      expect.arrayContaining([
        ['nav/child-benefit', '5110'],
        ['skd/tax-return', '5111'],
      ]),
    );
  });

  it('sets only variables the service (or the script it runs) reads, and values its configuration accepts', () => {
    for (const { name, service, app, env, definition } of built) {
      const accepted = acceptedVariables(service);
      // A job that runs a script of ours in a service's image also takes what that script reads.
      for (const mount of list(definition.volumes).map(String)) {
        const [source] = mount.split(':');
        if (source?.startsWith('./')) for (const variable of variablesReadBy(source.slice(2))) accepted.add(variable);
      }
      for (const variable of Object.keys(env)) {
        expect({ name, variable, declared: accepted.has(variable) }).toEqual({ name, variable, declared: true });
      }
      const full = { ...imageEnvironment(app), ...env };
      if (service === 'auth') expect(() => loadAuthConfig(full)).not.toThrow();
      // The app's loader also checks how the org token variables combine (a client needs ORG_TOKEN_URL, …).
      else if (service === 'app') expect(() => loadAppServiceConfig(full)).not.toThrow();
      else if (isServiceName(service)) expect(() => loadConfig(CONFIG_SCHEMAS[service], full)).not.toThrow();
    }
  });

  it('mounts only scripts that exist', () => {
    for (const name of names) {
      for (const mount of list(record(services[name]).volumes).map(String)) {
        const [source] = mount.split(':');
        if (source?.startsWith('./')) expect({ name, source, exists: exists(source.slice(2)) }).toEqual({ name, source, exists: true });
      }
    }
  });

  it('wires storage and every app to the token service, and the apps to storage, by compose service name and port', () => {
    const [auth] = builtAs('auth').filter((entry) => !oneShot.has(entry.name));
    const [storage] = builtAs('storage');
    if (!auth || !storage) throw new Error('compose needs auth and storage');
    const issuer = auth.env.ISSUER;
    expect(auth.env.TEST_TOKENS_ENABLED ?? 'false').toBe('false');
    for (const { name, env } of [storage, ...builtAs('app')]) {
      expect({ name, jwks: hostAndPort(env.JWKS_URL ?? '') }).toEqual({ name, jwks: { host: auth.name, port: auth.env.PORT, path: '/.well-known/jwks.json' } });
      expect({ name, issuer: env.TOKEN_ISSUER }).toEqual({ name, issuer });
      expect(env.TOKEN_AUDIENCE).toBe(auth.env.AUDIENCE ?? 'forms-platform');
    }
    for (const { name, env } of builtAs('app')) {
      expect({ name, storage: hostAndPort(env.STORAGE_URL ?? '') }).toEqual({ name, storage: { host: storage.name, port: storage.env.PORT, path: '/storage/api/v1' } });
      expect({ name, tokenUrl: hostAndPort(env.ORG_TOKEN_URL ?? '') }).toEqual({
        name,
        tokenUrl: { host: auth.name, port: auth.env.PORT, path: '/authentication/api/v1/token' },
      });
    }
  });

  it("gives each app its own client from the bootstrap job, which registers every app's client with the token service's CLI", () => {
    const jobs = [...oneShot].filter((name) => serviceOf(name) === 'auth');
    expect(jobs).toHaveLength(1);
    const job = built.find((entry) => entry.name === jobs[0]) as Built;
    const apps = (job.env.APP_CLIENTS ?? '').split(/\s+/).map((entry) => entry.split(':')[0]);
    const volumeAt = (definition: Yaml, path: string) =>
      list(definition.volumes)
        .map(String)
        .find((mount) => mount.split(':')[1] === path)
        ?.split(':')[0];
    const jobVolume = volumeAt(job.definition, job.env.OUT_DIR ?? '');
    expect(jobVolume).toBeDefined();
    expect(Object.keys(record(compose.volumes))).toContain(jobVolume);
    for (const { name, app, env, definition } of builtAs('app')) {
      expect(apps).toContain(app);
      const file = env.ORG_CLIENT_FILE ?? '';
      expect({ name, file }).toEqual({ name, file: expect.stringMatching(new RegExp(`/${(app ?? '').replace('/', '-')}\\.json$`)) });
      const folder = file.slice(0, file.lastIndexOf('/'));
      expect({ name, volume: volumeAt(definition, folder) }).toEqual({ name, volume: jobVolume });
      expect(list(definition.volumes)).toContain(`${jobVolume}:${folder}:ro`);
      expect(dependsOn(definition)[job.name]?.condition).toBe('service_completed_successfully');
    }
    const script = list(record(services[job.name]).entrypoint).map(String).join(' ');
    expect(script).toContain('register-org-clients.sh');
    const registration = readText('deploy/compose/register-org-clients.sh');
    expect(registration).toContain('CLI="node dist/cli.js"');
    expect(registration).toContain('$CLI clients add --kind org');
    expect(registration).toContain('--app "$app"');
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readDockerfile();

  it('copies only files that exist', () => {
    for (const source of dockerfile.copySources) expect({ source, exists: exists(source) }).toEqual({ source, exists: true });
  });

  it('has a runtime stage per service and ends with the chosen one', () => {
    for (const service of Object.keys(CONFIG_SCHEMAS)) expect(dockerfile.stages).toContain(`runtime-${service}`);
    expect(dockerfile.froms.at(-1)).toBe('runtime-${SERVICE}');
    // The build refuses a SERVICE the build script does not know, and names the same four.
    expect(dockerfile.text).toMatch(/case "\$\{SERVICE\}" in storage\|auth\|events\|app\)/);
    expect(readText('scripts/build.mjs')).toMatch(/storage: \['server'\],\s+auth: \['server', 'cli'\],\s+events: \['server'\],\s+app: \['server'\],/);
  });

  it('runs as the unprivileged node user with production dependencies only', () => {
    expect(dockerfile.text).toMatch(/^USER node$/m);
    expect(dockerfile.text).toMatch(/pnpm install --prod /);
    expect(dockerfile.env.get('NODE_ENV')).toBe('production');
  });

  it('points APP_DIR of an app image at the app folder it copies in, and runs every service as dist/server.js', () => {
    expect(imageEnvironment('nav/child-benefit').APP_DIR).toBe('/app/apps/nav/child-benefit');
    expect(dockerfile.text).toContain('COPY --from=build /out/app /app/apps/${APP}');
    expect(dockerfile.text).toContain('rm -f /out/app/rules.ts');
    // No wrapper: the app service gets its org token itself.
    const commands = dockerfile.text.split('\n').filter((line) => /^\s*(CMD|ENTRYPOINT)\b/.test(line));
    expect(commands).toEqual(['CMD ["node", "--enable-source-maps", "dist/server.js"]']);
  });
});

describe('docker-compose.yml malware scanning', () => {
  it("points storage's CLAMD_HOST/CLAMD_PORT at a clamd service with a healthcheck that storage waits for", () => {
    const [storage] = builtAs('storage');
    const host = storage?.env.CLAMD_HOST ?? '';
    expect(names).toContain(host);
    const clamd = record(services[host]);
    expect(String(clamd.image)).toMatch(/^clamav\/clamav:/);
    expect(storage?.env.CLAMD_PORT).toBe('3310');
    expect(isRecord(clamd.healthcheck)).toBe(true);
    expect(dependsOn(record(storage?.definition))[host]).toEqual({ condition: 'service_healthy' });
  });
});
