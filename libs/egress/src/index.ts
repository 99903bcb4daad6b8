export * from './address-classifier';
export * from './egress-policy';
