// Found by review: details holding a "__proto__" key (from JSON.parse in a handler) made the SUCCEEDED
// update an InvalidRequestError, which the runner dropped: the service kept the execution IN_PROGRESS.
import { Observable } from 'rxjs';
import { succeeded, type HandlerEvent } from '../../src/agent/handler';
import { anyDocument, createHarness, type Harness } from './runner-harness';

describe('handler details with a "__proto__" key (e.g. from JSON.parse)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('the SUCCEEDED update still reaches the service', async () => {
    h.addJob('job-1', { operation: 'x' });
    const details = JSON.parse('{"result":"ok","__proto__":"from-child"}') as Record<string, unknown>;
    const runner = h.start({
      handlers: [{ name: 'h', match: anyDocument, run: () => new Observable<HandlerEvent>((s) => { s.next(succeeded(details)); s.complete(); }) }],
    });
    const event = await runner.waitFor((e) => e.kind === 'succeeded' || e.kind === 'error' || e.kind === 'failed', 3000);
    expect(event.kind).toBe('succeeded');
    // The service has it once the runner says `reported`.
    await runner.waitFor((e) => e.kind === 'reported' || e.kind === 'error', 3000);
    expect(h.status('job-1').status).toBe('SUCCEEDED');
    expect(h.status('job-1').statusDetails).toEqual({ result: 'ok' });
  });
});
