import * as t from 'io-ts';
import { JobExecutionsChangedEvent, nextJobExecutionChangedEvent } from '../../src/codecs/events';
import { events } from '../../src/operations';
import { assertFailure, assertSuccess, failureLines, seconds, wire } from './helpers';

/** The caller's job document codec used by the typed-document tests. */
const Doc = t.type({ operation: t.string }, 'Doc');

/** Payloads copied verbatim from ../shared/spec/jobs-api.md §7. */
const spec = {
  notifyOneQueued:
    '{"timestamp":1719940994,"jobs":{"QUEUED":[{"jobId":"Job1","queuedAt":1719940994,"lastUpdatedAt":1719940994,"executionNumber":1,"versionNumber":1}]}}',
  notifyNothing: '{"timestamp":1719948116,"jobs":{}}',
  notifyBoth:
    '{"timestamp":1517017906,"jobs":{"IN_PROGRESS":[{"jobId":"job1","queuedAt":1517016947,"lastUpdatedAt":1517017472,"startedAt":1517017472,"executionNumber":1,"versionNumber":2}],"QUEUED":[{"jobId":"job2","queuedAt":1517017191,"lastUpdatedAt":1517017191,"executionNumber":1,"versionNumber":1}]}}',
  notifyNextHead:
    '{"timestamp":1719940994,"execution":{"jobId":"Job1","status":"QUEUED","queuedAt":1719940994,"lastUpdatedAt":1719940994,"versionNumber":1,"executionNumber":1,"jobDocument":{"ToDo":"Reboot"}}}',
  notifyNextEmpty: '{"timestamp":1719948116}',
};

describe('JobExecutionsChangedEvent', () => {
  it('JobExecutionsChangedEvent - decodes the live notify with one queued job', () => {
    assertSuccess(JobExecutionsChangedEvent.decode(wire(spec.notifyOneQueued)), {
      timestamp: seconds(1719940994),
      jobs: {
        QUEUED: [
          { jobId: 'Job1', queuedAt: seconds(1719940994), lastUpdatedAt: seconds(1719940994), executionNumber: 1, versionNumber: 1 },
        ],
      },
    });
  });

  it('JobExecutionsChangedEvent - decodes the live notify with nothing pending as an empty map', () => {
    const decoded = assertSuccess(events.jobExecutionsChanged.event(t.unknown).decode(wire(spec.notifyNothing)), {
      timestamp: seconds(1719948116),
      jobs: {},
    });
    expect(decoded.jobs).not.toHaveProperty('QUEUED');
    expect(decoded.jobs).not.toHaveProperty('IN_PROGRESS');
  });

  it('JobExecutionsChangedEvent - decodes the doc notify with both lists', () => {
    assertSuccess(JobExecutionsChangedEvent.decode(wire(spec.notifyBoth)), {
      timestamp: seconds(1517017906),
      jobs: {
        IN_PROGRESS: [
          {
            jobId: 'job1',
            queuedAt: seconds(1517016947),
            lastUpdatedAt: seconds(1517017472),
            startedAt: seconds(1517017472),
            executionNumber: 1,
            versionNumber: 2,
          },
        ],
        QUEUED: [
          { jobId: 'job2', queuedAt: seconds(1517017191), lastUpdatedAt: seconds(1517017191), executionNumber: 1, versionNumber: 1 },
        ],
      },
    });
  });

  it('JobExecutionsChangedEvent - tolerates unknown extra fields and status keys', () => {
    const decoded = assertSuccess(
      JobExecutionsChangedEvent.decode({ timestamp: 1719940994, namespace: 'x', jobs: { SCHEDULED: [{ jobId: 'Job9' }], QUEUED: [] } }),
    );
    expect(decoded).toStrictEqual({ timestamp: seconds(1719940994), namespace: 'x', jobs: { SCHEDULED: [{ jobId: 'Job9' }], QUEUED: [] } });
  });

  it('JobExecutionsChangedEvent - refuses a summary without jobId, naming its index', () => {
    assertFailure(JobExecutionsChangedEvent, { timestamp: 1719940994, jobs: { QUEUED: [{ jobId: 'Job1' }, { queuedAt: 1719940994 }] } }, [
      'jobs.QUEUED.1.jobId: expected string, got nothing',
    ]);
  });

  it('JobExecutionsChangedEvent - refuses a timestamp sent as a string', () => {
    assertFailure(JobExecutionsChangedEvent, { timestamp: '1719940994', jobs: {} }, ['timestamp: expected EpochSeconds, got "1719940994"']);
  });

  it('JobExecutionsChangedEvent - refuses wrongly typed summary fields', () => {
    assertFailure(
      JobExecutionsChangedEvent,
      { timestamp: 1719940994, jobs: { IN_PROGRESS: [{ jobId: 'job1', startedAt: -5, versionNumber: '2' }] } },
      ['jobs.IN_PROGRESS.0.startedAt: expected EpochSeconds, got -5', 'jobs.IN_PROGRESS.0.versionNumber: expected Long, got "2"'],
    );
  });

  it('JobExecutionsChangedEvent - refuses a status list that is not an array', () => {
    assertFailure(JobExecutionsChangedEvent, { timestamp: 1719940994, jobs: { QUEUED: {} } }, [
      'jobs.QUEUED: expected Array<JobExecutionSummary>, got {}',
    ]);
  });

  it('JobExecutionsChangedEvent - refuses a payload without jobs or timestamp', () => {
    // The `jobs` line is only pinned by its start: it names the anonymous codec by its whole structure.
    const lines = failureLines(JobExecutionsChangedEvent, {});
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^jobs: expected .*, got nothing$/);
    expect(lines[1]).toBe('timestamp: expected EpochSeconds, got nothing');
  });

  it('JobExecutionsChangedEvent - refuses a payload that is not an object', () => {
    assertFailure(JobExecutionsChangedEvent, 'notify', ['(root): expected JobExecutionsChangedEvent, got "notify"']);
  });
});

describe('NextJobExecutionChangedEvent', () => {
  it('NextJobExecutionChangedEvent - decodes the live notify-next with a new head', () => {
    assertSuccess(nextJobExecutionChangedEvent(t.unknown).decode(wire(spec.notifyNextHead)), {
      timestamp: seconds(1719940994),
      execution: {
        jobId: 'Job1',
        status: 'QUEUED',
        queuedAt: seconds(1719940994),
        lastUpdatedAt: seconds(1719940994),
        versionNumber: 1,
        executionNumber: 1,
        jobDocument: { ToDo: 'Reboot' },
      },
    });
  });

  it('NextJobExecutionChangedEvent - decodes the live notify-next for an empty queue without execution', () => {
    const decoded = assertSuccess(events.nextJobExecutionChanged.event(t.unknown).decode(wire(spec.notifyNextEmpty)), {
      timestamp: seconds(1719948116),
    });
    expect(decoded).not.toHaveProperty('execution');
  });

  it('NextJobExecutionChangedEvent - tolerates unknown extra fields', () => {
    const decoded = assertSuccess(
      nextJobExecutionChangedEvent(t.unknown).decode({ timestamp: 1719940994, extra: true, execution: { jobId: 'Job1', status: 'QUEUED', future: 1 } }),
    );
    expect(decoded).toStrictEqual({ timestamp: seconds(1719940994), extra: true, execution: { jobId: 'Job1', status: 'QUEUED', future: 1 } });
  });

  it('NextJobExecutionChangedEvent - decodes a typed document with the caller codec', () => {
    const decoded = assertSuccess(
      events.nextJobExecutionChanged.event(Doc).decode({ timestamp: 1719940994, execution: { jobId: 'Job1', status: 'QUEUED', jobDocument: { operation: 'reboot' } } }),
    );
    expect(decoded.execution?.jobDocument).toStrictEqual({ operation: 'reboot' });
  });

  it('NextJobExecutionChangedEvent - refuses a typed document with a readable path', () => {
    assertFailure(nextJobExecutionChangedEvent(Doc), wire(spec.notifyNextHead), ['execution.jobDocument.operation: expected string, got nothing']);
  });

  it('NextJobExecutionChangedEvent - refuses a bad status and a string timestamp', () => {
    assertFailure(nextJobExecutionChangedEvent(t.unknown), { timestamp: '1719940994', execution: { jobId: 'Job1', status: 'queued' } }, [
      'timestamp: expected EpochSeconds, got "1719940994"',
      'execution.status: expected JobExecutionStatus, got "queued"',
    ]);
  });

  it('NextJobExecutionChangedEvent - refuses a payload without timestamp', () => {
    assertFailure(nextJobExecutionChangedEvent(t.unknown), {}, ['timestamp: expected EpochSeconds, got nothing']);
  });
});
