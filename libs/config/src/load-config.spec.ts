import { z } from 'zod';
import { CommonConfigSchema, ConfigError, envBoolean, loadConfig } from './load-config';

describe('loadConfig', () => {
  const schema = CommonConfigSchema.extend({ TROUPE_REQUIRED: z.string().min(1), TROUPE_FLAG: envBoolean(false) });

  it('given a valid environment, when loaded, then values are typed and defaults applied', () => {
    const config = loadConfig(schema, { TROUPE_REQUIRED: 'x', TROUPE_FLAG: 'false', TROUPE_KAFKA_BROKERS: 'a:1, b:2' });
    expect(config.TROUPE_FLAG).toBe(false); // not coerced to true as "false" is a non-empty string
    expect(config.TROUPE_KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(config.TROUPE_CONSUMER_BATCH_SIZE).toBe(200);
  });

  it('given a missing and a bad variable, when loaded, then the error names both', () => {
    let error: unknown;
    try {
      loadConfig(schema, { TROUPE_CONSUMER_BATCH_SIZE: 'lots' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['TROUPE_CONSUMER_BATCH_SIZE', 'TROUPE_REQUIRED']);
    expect((error as Error).message).toMatch(/TROUPE_REQUIRED: Required/);
  });
});
