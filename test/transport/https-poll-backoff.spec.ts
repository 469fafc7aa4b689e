import { InvalidRequestError } from '../../src';
import { httpsTransport } from '../../src/transport/https';

// Found by review: the pause while throttled was min(pause * 2, maxPollIntervalMs), and nothing checked that
// maxPollIntervalMs was at least pollIntervalMs: setting only the cap (below the 60 s default interval) made
// throttling poll faster. Such options are refused; pollEvent never pauses less than the interval either
// (its marble tests in https-poll.spec.ts).

const base = { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'S' } };

describe('polling backs off on throttling', () => {
  it.each([
    [{ pollIntervalMs: 300, maxPollIntervalMs: 50 }, /maxPollIntervalMs: expected at least pollIntervalMs \(300\), got 50/],
    [{ maxPollIntervalMs: 30_000 }, /maxPollIntervalMs: expected at least pollIntervalMs \(60000\), got 30000/],
  ])('refuses a maxPollIntervalMs below the poll interval: %p', (options, message) => {
    expect(() => httpsTransport({ ...base, ...options })).toThrow(InvalidRequestError);
    expect(() => httpsTransport({ ...base, ...options })).toThrow(message);
  });

  it('takes a cap equal to the interval', () => {
    expect(() => httpsTransport({ ...base, pollIntervalMs: 300, maxPollIntervalMs: 300 })).not.toThrow();
  });
});
