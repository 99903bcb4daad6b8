export * from './tokens';
export * from './service-definition';
export * from './runtime.module';
export * from './bootstrap';
export * from './kafka-connection';
export * from './query-gauge';
export * from './http-metrics';
export * from './periodic';
