export * from './expression';
export * from './json-schema';
export * from './workflow-graph';
export * from './step-scheduler';
export * from './validate-workflow';
