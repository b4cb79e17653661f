export * from './common';
export * from './application';
export * from './data-element';
export * from './process';
export * from './instance';
export * from './instance-event';
export * from './claims';
export * from './errors';
