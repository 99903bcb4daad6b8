import { classifyError, PermanentError } from './errors';

describe('classifyError', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'infrastructure'],
    [new Error('Connection terminated unexpectedly'), 'infrastructure'],
    [new Error('timeout exceeded when trying to connect'), 'infrastructure'],
    [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'infrastructure'],
    [Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' }), 'infrastructure'],
    [Object.assign(new Error('deadlock detected'), { code: '40P01' }), 'transient'],
    [new PermanentError('BAD', 'bad message'), 'permanent'],
    [new TypeError('x is undefined'), 'permanent'],
  ])('given %s, then it is %s', (error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
});
