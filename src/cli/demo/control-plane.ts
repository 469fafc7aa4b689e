import * as t from 'io-ts';
import { decodeJson } from '../../codecs/decode';
import { JobExecutionStatus } from '../../codecs/job-execution';

/**
 * The few control-plane calls the demo makes (CreateJob, CancelJob, DescribeJobExecution), as a fleet
 * operator's tool would make them, against the emulator's control endpoint. The emulator does not sign-check
 * its control plane, so plain HTTP is enough; against AWS use `@aws-sdk/client-iot`.
 */

const ExecutionView = t.type({
  execution: t.intersection([
    t.type({ jobId: t.string, status: JobExecutionStatus }),
    t.partial({ statusDetails: t.partial({ detailsMap: t.record(t.string, t.string) }) }),
  ]),
});

/** An execution as the demo's final table shows it. */
export interface ExecutionRow {
  readonly jobId: string;
  readonly status: JobExecutionStatus;
  readonly statusDetails: Readonly<Record<string, string>>;
}

/** The demo's control-plane client. */
export interface DemoControlPlane {
  createJob(jobId: string, thingName: string, document: unknown, description: string): Promise<void>;
  cancelJob(jobId: string, comment: string): Promise<void>;
  describeExecution(jobId: string, thingName: string): Promise<ExecutionRow>;
}

const thingArn = (thingName: string): string => `arn:aws:iot:us-east-1:123456789012:thing/${thingName}`;

/** A control-plane client for the emulator at `endpoint` (`http://127.0.0.1:PORT`). */
export const demoControlPlane = (endpoint: string): DemoControlPlane => {
  const call = async (method: 'PUT' | 'GET', path: string, body?: unknown): Promise<string> => {
    const response = await fetch(`${endpoint}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${String(response.status)} ${text}`);
    return text;
  };
  return {
    createJob: async (jobId, thingName, document, description) => {
      await call('PUT', `/jobs/${encodeURIComponent(jobId)}`, { targets: [thingArn(thingName)], document: JSON.stringify(document), description });
    },
    cancelJob: async (jobId, comment) => {
      await call('PUT', `/jobs/${encodeURIComponent(jobId)}/cancel?force=true`, { comment });
    },
    describeExecution: async (jobId, thingName) => {
      const text = await call('GET', `/things/${encodeURIComponent(thingName)}/jobs/${encodeURIComponent(jobId)}`);
      const { execution } = decodeJson(ExecutionView, { payload: text });
      return { jobId: execution.jobId, status: execution.status, statusDetails: execution.statusDetails?.detailsMap ?? {} };
    },
  };
};
