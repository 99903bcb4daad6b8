export * from './model-provider';
export * from './local-provider';
export * from './extractive-summary';
export * from './templated-reply';
