/** The Kubernetes manifests (kustomize base in deploy/k8s) are complete, safe and agree with the services. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@forms/service-kit';
import { loadAppServiceConfig } from '../../services/app/src/config';
import { loadAuthConfig } from '../../services/auth/src/config';
import { loadStorageConfig } from '../../services/storage/src/config';
import {
  CONFIG_SCHEMAS,
  K8S_DIR,
  ROOT,
  acceptedVariables,
  exists,
  hostAndPort,
  isServiceName,
  list,
  readYaml,
  readYamlDocuments,
  record,
  repoApps,
  type Yaml,
} from './support/deploy-files';

const kustomization = readYaml(`${K8S_DIR}/kustomization.yaml`);
const resources = list(kustomization.resources).map(String);
const resourcesThatExist = resources.filter((resource) => exists(join(K8S_DIR, resource)));
const objects = resourcesThatExist.flatMap((resource) => readYamlDocuments(join(K8S_DIR, resource)).map((object) => ({ resource, object })));
const ofKind = (kind: string): Yaml[] => objects.filter(({ object }) => object.kind === kind).map(({ object }) => object);
const nameOf = (object: Yaml): string => String(record(object.metadata).name);
const byName = (kind: string, name: string): Yaml | undefined => ofKind(kind).find((object) => nameOf(object) === name);

const podSpec = (deployment: Yaml): Yaml => record(record(record(deployment.spec).template).spec);
const containers = (deployment: Yaml): Yaml[] => list(podSpec(deployment).containers).map(record);
/** Deployments of our own images; third-party ones (clamd) are checked on their own below. */
const isOurs = (deployment: Yaml): boolean => containers(deployment).every((container) => String(container.image).startsWith('forms-platform/'));
const allDeployments = ofKind('Deployment');
const deployments = allDeployments.filter(isOurs);

/** Which of our services a Deployment runs, from its image (forms-platform/<service> or forms-platform/app-<org>-<app>). */
function serviceOf(container: Yaml): string {
  const image = String(container.image);
  const match = /^forms-platform\/(storage|auth|events|app-[a-z0-9-]+)(:.*)?$/.exec(image);
  if (!match) throw new Error(`unexpected image ${image}`);
  return (match[1] as string).startsWith('app-') ? 'app' : (match[1] as string);
}

/** A container's environment: its ConfigMaps' data, then its own env (Secret values as a placeholder). */
function environment(container: Yaml): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of list(container.envFrom).map(record)) {
    const name = String(record(source.configMapRef).name);
    Object.assign(env, record(byName('ConfigMap', name)?.data));
  }
  for (const entry of list(container.env).map(record)) {
    env[String(entry.name)] = entry.value !== undefined ? String(entry.value) : 'from-a-secret-0123456789abcdef';
  }
  return env;
}

const domainOf = (host: string): string => host.replace(/^[^.]+\./, '');

/** The Secrets and keys secrets.example.yaml documents. */
const documentedSecrets = new Map(
  readYamlDocuments(`${K8S_DIR}/secrets.example.yaml`).map((secret) => [nameOf(secret), new Set(Object.keys(record(secret.stringData)))]),
);

describe('deploy/k8s kustomization', () => {
  it('lists only files that exist, and every manifest in the folder', () => {
    for (const resource of resources) expect({ resource, exists: exists(join(K8S_DIR, resource)) }).toEqual({ resource, exists: true });
    const manifests = (folder: string): string[] =>
      readdirSync(join(ROOT, K8S_DIR, folder), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? manifests(join(folder, entry.name)) : entry.name.endsWith('.yaml') ? [join(folder, entry.name)] : [],
      );
    const unlisted = manifests('').filter((file) => !['kustomization.yaml', 'secrets.example.yaml'].includes(file) && !resources.includes(file));
    expect(unlisted).toEqual([]);
  });

  it('sets the image of every container it deploys', () => {
    const images = new Set(list(kustomization.images).map((image) => String(record(image).name)));
    for (const deployment of deployments) for (const container of containers(deployment)) expect(images).toContain(String(container.image));
  });

  it('keeps ConfigMap values strings, as Kubernetes requires', () => {
    for (const configMap of ofKind('ConfigMap')) {
      for (const [key, value] of Object.entries(record(configMap.data))) expect({ key, type: typeof value }).toEqual({ key, type: 'string' });
    }
  });
});

describe('deploy/k8s Deployments', () => {
  it('runs storage, the token service, the events service and one Deployment per example app', () => {
    const services = deployments.flatMap((deployment) => containers(deployment).map(serviceOf)).sort();
    expect(services.filter((service) => service !== 'app')).toEqual(['auth', 'events', 'storage']);
    expect(services.filter((service) => service === 'app')).toHaveLength(repoApps().length);
  });

  it('probes /ready (readiness) and /health (liveness) on the port the container listens on; Prometheus scrapes its metrics port', () => {
    for (const deployment of deployments) {
      for (const container of containers(deployment)) {
        const ports = list(container.ports).map(record);
        const { PORT: listens, METRICS_PORT: metrics } = environment(container);
        const named = Object.fromEntries(ports.map((port) => [port.name, String(port.containerPort)]));
        expect({ deployment: nameOf(deployment), named }).toEqual({ deployment: nameOf(deployment), named: { http: listens, metrics } });
        const annotations = record(record(record(record(deployment.spec).template).metadata).annotations);
        expect({ deployment: nameOf(deployment), annotations }).toEqual({
          deployment: nameOf(deployment),
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': metrics, 'prometheus.io/path': '/metrics' },
        });
        for (const [probe, path] of [
          ['readinessProbe', '/ready'],
          ['livenessProbe', '/health'],
        ] as const) {
          const httpGet = record(record(container[probe]).httpGet);
          expect({ deployment: nameOf(deployment), probe, path: httpGet.path }).toEqual({ deployment: nameOf(deployment), probe, path });
          const port = ports.find((candidate) => candidate.name === httpGet.port || candidate.containerPort === httpGet.port);
          expect({ deployment: nameOf(deployment), probe, port: port?.containerPort }).toEqual({ deployment: nameOf(deployment), probe, port: Number(listens) });
        }
      }
    }
  });

  it('runs as non-root with a read-only root filesystem, no privilege escalation, and resource requests and limits', () => {
    for (const deployment of deployments) {
      const name = nameOf(deployment);
      const pod = record(podSpec(deployment).securityContext);
      for (const container of containers(deployment)) {
        const security = record(container.securityContext);
        expect({ name, runAsNonRoot: security.runAsNonRoot ?? pod.runAsNonRoot }).toEqual({ name, runAsNonRoot: true });
        // The image's user is `node` by name; Kubernetes can only check runAsNonRoot against a numeric id.
        expect({ name, runAsUser: security.runAsUser ?? pod.runAsUser }).toEqual({ name, runAsUser: 1000 });
        expect({ name, readOnlyRootFilesystem: security.readOnlyRootFilesystem, allowPrivilegeEscalation: security.allowPrivilegeEscalation }).toEqual({
          name,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        const resources = record(container.resources);
        for (const kind of ['requests', 'limits']) {
          expect({ name, kind, cpu: typeof record(resources[kind]).cpu, memory: typeof record(resources[kind]).memory }).toEqual({ name, kind, cpu: 'string', memory: 'string' });
        }
        // A read-only root still needs a writable /tmp.
        expect(list(container.volumeMounts).map((mount) => record(mount).mountPath)).toContain('/tmp');
      }
    }
  });

  it('sets only variables the service reads, with values its configuration accepts', () => {
    for (const deployment of deployments) {
      for (const container of containers(deployment)) {
        const service = serviceOf(container);
        const accepted = acceptedVariables(service);
        const env = environment(container);
        for (const variable of Object.keys(env)) {
          expect({ deployment: nameOf(deployment), variable, declared: accepted.has(variable) }).toEqual({ deployment: nameOf(deployment), variable, declared: true });
        }
        if (isServiceName(service)) expect(() => loadConfig(CONFIG_SCHEMAS[service], env)).not.toThrow();
        // The app's loader also checks how the org token variables combine (a client needs ORG_TOKEN_URL, …).
        if (service === 'app') expect(() => loadAppServiceConfig(env)).not.toThrow();
        expect(env.HOST).toBe('0.0.0.0');
      }
    }
  });

  it('declares the replicas storage and the token service run, in a configuration each accepts for that many', () => {
    for (const deployment of deployments) {
      for (const container of containers(deployment)) {
        const service = serviceOf(container);
        if (service !== 'storage' && service !== 'auth') continue;
        const env = environment(container);
        const replicas = Number(record(deployment.spec).replicas ?? 1);
        expect({ name: nameOf(deployment), declared: Number(env.REPLICAS ?? 1) >= replicas }).toEqual({ name: nameOf(deployment), declared: true });
        const load = service === 'storage' ? loadStorageConfig : loadAuthConfig;
        // The signing key file is a mounted Secret; its content does not matter here.
        const { SIGNING_KEY_PEM_FILE: _file, ...rest } = env;
        expect(() => load(service === 'auth' ? { ...rest, SIGNING_KEY_PEM: 'mounted-secret' } : env)).not.toThrow();
      }
    }
  });

  it('reads only ConfigMaps that exist and Secrets (and keys) that secrets.example.yaml documents', () => {
    for (const deployment of deployments) {
      const pod = podSpec(deployment);
      for (const container of containers(deployment)) {
        for (const source of list(container.envFrom).map(record)) {
          const name = String(record(source.configMapRef).name);
          expect({ configMap: name, exists: byName('ConfigMap', name) !== undefined }).toEqual({ configMap: name, exists: true });
        }
        for (const entry of list(container.env).map(record)) {
          const ref = record(record(entry.valueFrom).secretKeyRef);
          if (ref.name === undefined) continue;
          expect({ secret: ref.name, key: ref.key, documented: documentedSecrets.get(String(ref.name))?.has(String(ref.key)) }).toEqual({
            secret: ref.name,
            key: ref.key,
            documented: true,
          });
        }
      }
      for (const volume of list(pod.volumes).map(record)) {
        const secret = record(volume.secret);
        if (secret.secretName === undefined) continue;
        for (const item of list(secret.items).map(record)) {
          expect(documentedSecrets.get(String(secret.secretName))?.has(String(item.key))).toBe(true);
        }
      }
    }
  });
});

describe('deploy/k8s Services and Ingresses', () => {
  /** The Service in front of a Deployment (selector matching its pod labels) and the Ingress rules routing to it. */
  function exposure(deployment: Yaml) {
    const labels = record(record(record(record(deployment.spec).template).metadata).labels);
    const service = ofKind('Service').find((candidate) => {
      const selector = record(record(candidate.spec).selector);
      return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
    });
    if (!service) throw new Error(`no Service selects Deployment ${nameOf(deployment)}`);
    const containerPorts = containers(deployment).flatMap((container) => list(container.ports).map(record));
    for (const port of list(record(service.spec).ports).map(record)) {
      expect(containerPorts.some((candidate) => candidate.name === port.targetPort || candidate.containerPort === port.targetPort)).toBe(true);
    }
    const servicePorts = list(record(service.spec).ports).map(record);
    const rules = ofKind('Ingress').flatMap((ingress) =>
      list(record(ingress.spec).rules)
        .map(record)
        .flatMap((rule) =>
          list(record(rule.http).paths)
            .map(record)
            .filter((path) => record(record(path.backend).service).name === nameOf(service))
            .map((path) => {
              const port = record(record(record(path.backend).service).port);
              expect(servicePorts.some((candidate) => candidate.name === port.name || candidate.port === port.number)).toBe(true);
              const tls = list(record(ingress.spec).tls).flatMap((entry) => list(record(entry).hosts));
              expect(tls).toContain(rule.host);
              return { host: String(rule.host), path: String(path.path), pathType: path.pathType };
            }),
        ),
    );
    return { service, rules };
  }

  const deploymentOf = (service: string): Yaml[] => deployments.filter((deployment) => containers(deployment).some((container) => serviceOf(container) === service));
  const [auth] = deploymentOf('auth');
  const [storage] = deploymentOf('storage');
  const authRules = auth ? exposure(auth).rules : [];
  const domain = domainOf(authRules[0]?.host ?? '');

  it('routes auth.<domain> to the token service: its API prefix and the well-known documents', () => {
    expect(authRules.map(({ host, path }) => [host, path]).sort()).toEqual([
      [`auth.${domain}`, '/.well-known'],
      [`auth.${domain}`, '/authentication'],
    ]);
  });

  it('routes storage.<domain>/storage to storage', () => {
    if (!storage) throw new Error('no storage Deployment');
    expect(exposure(storage).rules).toEqual([{ host: `storage.${domain}`, path: '/storage', pathType: 'Prefix' }]);
  });

  it('runs each app from its folder and routes <org>.apps.<domain>/<org>/<app> to it', () => {
    const seen: string[] = [];
    for (const deployment of deploymentOf('app')) {
      const [container] = containers(deployment);
      const appDir = environment(container as Yaml).APP_DIR ?? '';
      const appId = appDir.replace(/^\/app\/apps\//, '');
      expect({ deployment: nameOf(deployment), appDir, exists: repoApps().includes(appId) }).toEqual({ deployment: nameOf(deployment), appDir, exists: true });
      const [org] = appId.split('/');
      expect(String((container as Yaml).image)).toBe(`forms-platform/app-${appId.replace('/', '-')}`);
      expect(exposure(deployment).rules).toEqual([{ host: `${org}.apps.${domain}`, path: `/${appId}`, pathType: 'Prefix' }]);
      // Its own client, for the token naming the app: it registers the app and acts for parties in storage with it.
      const secrets = list((container as Yaml).env).map((entry) => String(record(record(record(entry).valueFrom).secretKeyRef).name));
      expect(secrets).toContain(`app-client-${appId.replace('/', '-')}`);
      seen.push(appId);
    }
    expect(seen.sort()).toEqual(repoApps());
  });

  it('has every service trust the token service it can reach in the cluster, under its public issuer', () => {
    if (!auth || !storage) throw new Error('no auth or storage Deployment');
    const authEnv = environment(containers(auth)[0] as Yaml);
    const authService = nameOf(exposure(auth).service);
    expect(authEnv.ISSUER).toBe(`https://auth.${domain}`);
    for (const deployment of [storage, ...deploymentOf('app'), ...deploymentOf('events')]) {
      const env = environment(containers(deployment)[0] as Yaml);
      const name = nameOf(deployment);
      expect({ name, issuer: env.TOKEN_ISSUER, audience: env.TOKEN_AUDIENCE }).toEqual({ name, issuer: authEnv.ISSUER, audience: authEnv.AUDIENCE });
      expect({ name, jwks: hostAndPort(env.JWKS_URL ?? '') }).toEqual({ name, jwks: { host: authService, port: authEnv.PORT, path: '/.well-known/jwks.json' } });
    }
    const storageEnv = environment(containers(storage)[0] as Yaml);
    expect(storageEnv.PUBLIC_URL).toBe(`https://storage.${domain}`);
    for (const deployment of deploymentOf('app')) {
      const env = environment(containers(deployment)[0] as Yaml);
      expect(hostAndPort(env.STORAGE_URL ?? '')).toEqual({ host: nameOf(exposure(storage).service), port: storageEnv.PORT, path: '/storage/api/v1' });
      expect(hostAndPort(env.ORG_TOKEN_URL ?? '')).toEqual({ host: authService, port: authEnv.PORT, path: '/authentication/api/v1/token' });
    }
  });

  it('routes events.<domain>/events to the events service, which reads storage and the token service in the cluster', () => {
    const [events] = deploymentOf('events');
    if (!events || !storage || !auth) throw new Error('no events, storage or auth Deployment');
    expect(exposure(events).rules).toEqual([{ host: `events.${domain}`, path: '/events', pathType: 'Prefix' }]);
    const env = environment(containers(events)[0] as Yaml);
    const storageEnv = environment(containers(storage)[0] as Yaml);
    expect(hostAndPort(env.STORAGE_URL ?? '')).toEqual({ host: nameOf(exposure(storage).service), port: storageEnv.PORT, path: '/storage/api/v1' });
    expect(hostAndPort(env.AUTH_URL ?? '')).toMatchObject({ host: nameOf(exposure(auth).service), port: environment(containers(auth)[0] as Yaml).PORT });
    expect(env.PUBLIC_URL).toBe(`https://events.${domain}`);
    // Production refuses subscriber endpoints inside the cluster's networks.
    expect(env.ALLOW_PRIVATE_ENDPOINTS).toBe('false');
  });
});

describe('deploy/k8s malware scanning', () => {
  it("runs clamd as a Deployment with a probe and resources, behind a Service that storage's CLAMD_HOST/CLAMD_PORT name", () => {
    const clamd = allDeployments.filter((deployment) => !isOurs(deployment));
    expect(clamd.map(nameOf)).toEqual(['clamd']);
    const [container] = containers(clamd[0] as Yaml);
    expect(String(container?.image)).toMatch(/^clamav\/clamav:/);
    expect(record(container?.readinessProbe).tcpSocket).toBeDefined();
    expect(typeof record(record(container?.resources).limits).memory).toBe('string');
    const service = byName('Service', 'clamd');
    const storage = deployments.find((deployment) => containers(deployment).some((c) => serviceOf(c) === 'storage')) as Yaml;
    const env = environment(containers(storage)[0] as Yaml);
    expect(env.CLAMD_HOST).toBe(nameOf(service as Yaml));
    expect(list(record(service?.spec).ports).map((port) => String(record(port).port))).toContain(env.CLAMD_PORT);
  });
});
