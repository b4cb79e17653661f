export {
  TestIssuer,
  JWKS_PATH,
  type TestIssuerOptions,
  type TokenOptions,
  type TokenAlgorithm,
  type TokenClaims,
  type UserTokenInput,
  type OrgTokenInput,
  type SystemTokenInput,
} from './test-issuer';
export { sharedClamd, describeWithClamd, PrivateClamd, type ClamdTarget } from './clamd';
export { FaultProxy, type ProxyMode } from './fault-proxy';
export { peakRssGrowth, sendStreaming, type StreamedAnswer, type StreamedRequest } from './streaming';
export { freePort } from './free-port';
export { ServiceProcess, type ServiceProcessOptions } from './service-process';
export { eventually, type EventuallyOptions } from './eventually';
