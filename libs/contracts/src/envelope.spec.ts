import { EnvelopeSchema, envelopeFromHeaders, envelopeToHeaders, eventTime } from './envelope';

describe('eventTime', () => {
  it('given many events in the same millisecond, when stamped, then each time is later than the one before and valid ISO', () => {
    const times = Array.from({ length: 5000 }, () => eventTime());
    for (let i = 1; i < times.length; i++) expect(times[i] > times[i - 1]).toBe(true);
    expect(times[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Math.abs(Date.parse(times[0]) - Date.now())).toBeLessThan(5_000);
  });
});

describe('envelope headers', () => {
  it('given an envelope, when written to headers and read back, then it is unchanged', () => {
    const envelope = EnvelopeSchema.parse({
      id: '6f1c0e4e-3f0a-4d7e-9b8a-1d2c3b4a5f60',
      source: 'troupe/intake',
      type: 'troupe.job.requested.v1',
      specversion: '1.0',
      time: eventTime(),
      subject: 'job-1',
      tenantid: 'acme',
      correlationid: 'job-1',
    });
    const headers = envelopeToHeaders(envelope);
    expect(headers.ce_type).toBe('troupe.job.requested.v1');
    expect(envelopeFromHeaders(headers)).toEqual(envelope);
  });
});
