export * from './data-source';
export * from './messaging-tables.migration';
export * from './notification-listener';
export * from './after-commit';
