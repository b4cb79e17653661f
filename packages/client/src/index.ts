export * from './storage-client';
export * from './app-client';
export * from './token-client';
export { withDeadline, withoutDeadline, remainingUntilDeadline } from './deadline';
