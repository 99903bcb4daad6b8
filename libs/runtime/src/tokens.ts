/** Injection tokens provided by TroupeRuntimeModule. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const KAFKA_GATEWAY = Symbol('KAFKA_GATEWAY');
export const LOGGER = Symbol('LOGGER');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** Optional: a service's ConsumerGate (backpressure for its inbox transport). */
export const CONSUMER_GATE = Symbol('CONSUMER_GATE');
/** The service's ConsumerStatus: whether its inbox consumer has joined its group (readiness). */
export const CONSUMER_STATUS = Symbol('CONSUMER_STATUS');
export const SERVICE_DEFINITION = Symbol('SERVICE_DEFINITION');
