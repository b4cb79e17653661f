export * from './storage-client';
