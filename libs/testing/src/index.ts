export * from './wait-for';
export * from './http-server';
export * from './webhook-receiver';
export * from './otlp-receiver';
export * from './service-process';
export * from './infrastructure';
export * from './tcp-proxy';
export * from './fake-model-provider';
