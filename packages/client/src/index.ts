export * from './storage-client';
export * from './app-client';
export * from './token-client';
