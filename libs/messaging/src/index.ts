export * from './errors';
export * from './kafka-gateway';
export * from './outbox';
export * from './outbox-relay';
export * from './message-context';
export * from './dead-letter';
export * from './inbox-transport';
export * from './batch-writes';
