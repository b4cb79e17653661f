export * from './server';
export * from './problem-handler';
export * from './multipart';
export * from './health';
export * from './openapi';
export * from './run';
export * from './config';
export * from './versioning';
export { metrics, oncePerScrape, type MetricsOptions, type ScrapedMetric } from './metrics';
