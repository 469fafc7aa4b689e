// Found by review: a notification that could not be decoded while a journaled execution was resumed was
// reported nowhere (only the cancel watch listened, and it checks silently).
import { NEVER, type Observable } from 'rxjs';
import type { HandlerEvent, JobHandler } from '../../src/agent/handler';
import { memoryJournal } from '../../src/agent/journal';
import { runJobs } from '../../src/agent/run-jobs';
import type { RunnerEvent } from '../../src/agent/events';
import { createJobsClient, type JobId } from '../../src';
import { createFakeJobsTransport } from '../../src/testing';

const execution = { jobId: 'job-1', status: 'IN_PROGRESS', executionNumber: 1, versionNumber: 2, jobDocument: { op: 'x' }, queuedAt: 1, lastUpdatedAt: 1 };

const setUp = (resume: boolean) => {
  const transport = createFakeJobsTransport({
    respond: (call) => {
      if (call.operation === 'describeJobExecution') return { outcome: 'accepted', body: { execution, timestamp: 1, clientToken: call.clientToken } };
      if (call.operation === 'startNextPendingJobExecution') return { outcome: 'accepted', body: { execution, timestamp: 1, clientToken: call.clientToken } };
      return undefined;
    },
  });
  const jobs = createJobsClient({ thingName: 'thing-A', transport });
  const journal = memoryJournal();
  if (resume) journal.begin({ jobId: 'job-1' as JobId, executionNumber: 1, versionNumber: 2, handler: 'h' });
  const handler: JobHandler = { name: 'h', resumable: true, match: (document) => ({ ok: true, document }), run: (): Observable<HandlerEvent> => NEVER };
  const events: RunnerEvent[] = [];
  const sub = runJobs(jobs, { handlers: [handler], journal }).subscribe((e) => events.push(e));
  return { transport, events, sub };
};

describe('a malformed notification while the runner resumes an execution', () => {
  it('is reported (as an error event or a process warning), as it is while running a fresh job', async () => {
    for (const resume of [false, true]) {
      const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const { transport, events, sub } = setUp(resume);
      await new Promise((r) => setTimeout(r, 50));
      expect(events.map((e) => e.kind)).toContain(resume ? 'resumed' : 'started');
      transport.emit('jobExecutionsChanged', '{"timestamp":1,"jobs":{"QUEUED":"many"}}');
      await new Promise((r) => setTimeout(r, 50));
      const reported = events.filter((e) => e.kind === 'error').length + warn.mock.calls.length;
      sub.unsubscribe();
      warn.mockRestore();
      expect({ resume, reported }).toEqual({ resume, reported: 1 });
    }
  });
});
