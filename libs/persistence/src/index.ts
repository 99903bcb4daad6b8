export * from './data-source';
export * from './messaging-tables.migration';
export * from './after-commit';
