export * from './tokens';
export * from './service-definition';
export * from './runtime.module';
export * from './bootstrap';
