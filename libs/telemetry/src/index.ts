export * from './start-telemetry';
export * from './trace-propagation';
export * from './logger';
export * from './metrics';
