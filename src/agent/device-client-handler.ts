import { type Observable, mergeMap } from '../rx-extra';
import { type DeviceClientPlan, isDeviceClientDocument, parseDeviceClientDocument } from './device-client/document';
import { identifyStepProcess, killLeftover } from './device-client/leftover';
import { type PlanEvent, type PlanOptions, checkPlan, runPlan } from './device-client/plan';
import type { HandlerEvent, JobHandler } from './handler';

/**
 * AWS IoT Device Client job documents (schema 1.0 and the legacy schema; ../shared/spec/device-client-jobs.md)
 * as a runner handler, so jobs made from the AWS managed templates run here as under Device Client, with
 * the safety differences listed in src/agent/device-client/step.ts and plan.ts. A plan that cannot run on
 * this device (commands disabled, a handler name that is not a plain file name) is REJECTED before any
 * step runs. Not resumable: an execution interrupted by a restart ends FAILED "interrupted", since a
 * half-run shell step cannot be continued safely; a step's process group left running by a runner that
 * was killed is killed then (Linux; see device-client/leftover.ts).
 */

/** Options of {@link deviceClientHandler}: those of {@link runPlan} without the per-run `signal`. */
export type DeviceClientHandlerOptions = Omit<PlanOptions, 'signal'>;

/** The handler's name in runner events and the journal. */
export const deviceClientHandlerName = 'device-client';

/** A plan event as a handler event: a step's start and end are progress; its output is not. */
const toHandlerEvents = (event: PlanEvent, total: number): HandlerEvent[] => {
  if (event.kind === 'step' && event.event.kind === 'output') return [];
  // The step's process group, journaled: a runner killed meanwhile kills it at its next start.
  if (event.kind === 'step' && event.event.kind === 'started') {
    const group = identifyStepProcess(event.event.pid);
    const progressEvent: HandlerEvent = { kind: 'progress', percent: (event.index / total) * 100, step: event.name };
    return group === undefined ? [progressEvent] : [{ kind: 'checkpoint', checkpoint: { process: group }, step: event.name }, progressEvent];
  }
  return [toHandlerEvent(event, total)];
};

const toHandlerEvent = (event: PlanEvent, total: number): HandlerEvent => {
  if (event.kind === 'result') {
    const { reason, stdout, stderr } = event.statusDetails;
    return { kind: 'done', status: event.status, details: { reason, ...(stdout === undefined ? {} : { stdout }), ...(stderr === undefined ? {} : { stderr }) } };
  }
  const percent = event.event.kind === 'finished' ? ((event.index + 1) / total) * 100 : (event.index / total) * 100;
  return { kind: 'progress', percent, step: event.name };
};

/**
 * The Device Client handler. Put it after your own handlers: legacy documents (`{"operation": …}`) look
 * like home-made ones, and the runner asks handlers in order.
 * @example
 * runJobs(client, { handlers: [firmware, deviceClientHandler({ handlerDir: '/etc/iot-jobs/handlers' })] })
 */
export const deviceClientHandler = (options: DeviceClientHandlerOptions): JobHandler<DeviceClientPlan> => ({
  name: deviceClientHandlerName,
  resumable: false,
  interrupted: ({ checkpoint }) =>
    typeof checkpoint === 'object' && checkpoint !== null && 'process' in checkpoint ? killLeftover(checkpoint.process) : undefined,
  match: (document) => {
    if (!isDeviceClientDocument(document)) return undefined;
    const parsed = parseDeviceClientDocument(document);
    if (!parsed.ok) return { ok: false, reason: parsed.rejection.reason };
    const issues = checkPlan(parsed.plan, options);
    return issues.length > 0 ? { ok: false, reason: `Job refused: ${issues.join('; ')}` } : { ok: true, document: parsed.plan };
  },
  run: (job): Observable<HandlerEvent> => {
    const plan = job.document;
    const total = plan.steps.length + (plan.finalStep === undefined ? 0 : 1);
    return runPlan(plan, { ...options, signal: job.signal }).pipe(mergeMap((event) => toHandlerEvents(event, total)));
  },
});
