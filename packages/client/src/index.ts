export * from './storage-client';
export * from './app-client';
export * from './app-types';
export * from './token-client';
export { Deadline } from './deadline';
export * from './events-client';
export * from './event-signature';
