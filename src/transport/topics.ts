import { isJobId, isThingName, type JobIdOrNext, type ThingName } from '../codecs/primitives';
import type { EventName, OperationName } from '../errors';

/**
 * Pure builders and parsers for the reserved topics `$aws/things/{thing}/jobs/...`
 * (../shared/spec/jobs-api.md §2.1). Builders take branded names, so a topic can only be built from valid
 * segments; parsers accept any string and never throw.
 */

/** Accepted or rejected: the two reply topics of every operation. */
export type Outcome = 'accepted' | 'rejected';

/** `$aws/things/{thing}/jobs`. */
export const jobsPrefix = (thingName: ThingName): string => `$aws/things/${thingName}/jobs`;

const opSuffix = {
  getPendingJobExecutions: 'get',
  startNextPendingJobExecution: 'start-next',
  describeJobExecution: 'get',
  updateJobExecution: 'update',
} as const satisfies Record<OperationName, string>;

const jobScoped = (operation: OperationName): boolean =>
  operation === 'describeJobExecution' || operation === 'updateJobExecution';

/** The topic a device publishes a request on. `jobId` is required by Describe and Update. */
export const requestTopic = (operation: OperationName, thingName: ThingName, jobId?: JobIdOrNext): string =>
  jobScoped(operation)
    ? `${jobsPrefix(thingName)}/${jobId ?? ''}/${opSuffix[operation]}`
    : `${jobsPrefix(thingName)}/${opSuffix[operation]}`;

/** The topic the service replies on. */
export const replyTopic = (operation: OperationName, thingName: ThingName, outcome: Outcome, jobId?: JobIdOrNext): string =>
  `${requestTopic(operation, thingName, jobId)}/${outcome}`;

/**
 * The one wildcard filter that covers every reply of an operation for a thing, whatever the job id and
 * outcome: `P/get/+`, `P/start-next/+`, `P/+/get/+`, `P/+/update/+`.
 */
export const replyFilter = (operation: OperationName, thingName: ThingName): string =>
  jobScoped(operation)
    ? `${jobsPrefix(thingName)}/+/${opSuffix[operation]}/+`
    : `${jobsPrefix(thingName)}/${opSuffix[operation]}/+`;

const eventSuffix = { jobExecutionsChanged: 'notify', nextJobExecutionChanged: 'notify-next' } as const satisfies Record<
  EventName,
  string
>;

/** `P/notify` or `P/notify-next`. */
export const eventTopic = (event: EventName, thingName: ThingName): string => `${jobsPrefix(thingName)}/${eventSuffix[event]}`;

/** What a topic under `$aws/things/{thing}/jobs` means. */
export type JobsTopic =
  | { readonly kind: 'request'; readonly thingName: ThingName; readonly operation: OperationName; readonly jobId?: JobIdOrNext }
  | {
      readonly kind: 'reply';
      readonly thingName: ThingName;
      readonly operation: OperationName;
      readonly outcome: Outcome;
      readonly jobId?: JobIdOrNext;
    }
  | { readonly kind: 'event'; readonly thingName: ThingName; readonly event: EventName }
  /** Under the jobs prefix but no API: the service answers `InvalidTopic`. */
  | { readonly kind: 'unknown'; readonly thingName: ThingName };

const isOutcome = (s: string | undefined): s is Outcome => s === 'accepted' || s === 'rejected';
const asJobIdOrNext = (s: string | undefined): JobIdOrNext | undefined => (s === '$next' ? s : isJobId(s) ? s : undefined);

const parseRest = (thingName: ThingName, rest: readonly string[]): JobsTopic => {
  const unknown: JobsTopic = { kind: 'unknown', thingName };
  const [a, b, c] = rest;
  const outcome = rest.length === 2 ? b : c;
  if (rest.length === 1 && a === 'notify') return { kind: 'event', thingName, event: 'jobExecutionsChanged' };
  if (rest.length === 1 && a === 'notify-next') return { kind: 'event', thingName, event: 'nextJobExecutionChanged' };
  if (rest.length === 1 && a === 'get') return { kind: 'request', thingName, operation: 'getPendingJobExecutions' };
  if (rest.length === 1 && a === 'start-next') return { kind: 'request', thingName, operation: 'startNextPendingJobExecution' };
  if (rest.length === 2 && (a === 'get' || a === 'start-next') && isOutcome(outcome)) {
    const operation = a === 'get' ? 'getPendingJobExecutions' : 'startNextPendingJobExecution';
    return { kind: 'reply', thingName, operation, outcome };
  }
  const jobId = asJobIdOrNext(a);
  const operation = b === 'get' ? 'describeJobExecution' : b === 'update' ? 'updateJobExecution' : undefined;
  if (jobId === undefined || operation === undefined) return unknown;
  // `$next` is an alias for Describe only.
  if (jobId === '$next' && operation === 'updateJobExecution') return unknown;
  if (rest.length === 2) return { kind: 'request', thingName, operation, jobId };
  if (rest.length === 3 && isOutcome(outcome)) return { kind: 'reply', thingName, operation, outcome, jobId };
  return unknown;
};

/**
 * Parses a topic under `$aws/things/{thing}/jobs/`. Returns `undefined` for topics outside the jobs
 * namespace or with an invalid thing name.
 */
export const parseJobsTopic = (topic: string): JobsTopic | undefined => {
  const segments = topic.split('/');
  const [dollarAws, things, thingName, jobs, ...rest] = segments;
  if (dollarAws !== '$aws' || things !== 'things' || jobs !== 'jobs' || !isThingName(thingName)) return undefined;
  return rest.length === 0 ? { kind: 'unknown', thingName } : parseRest(thingName, rest);
};

/**
 * A test for the MQTT topic filter `filter` (`+` one level, `#` the rest), with the filter split once: the
 * MQTT port runs it on every inbound message, so it walks the topic in place instead of splitting it.
 */
export const topicMatcher = (filter: string): ((topic: string) => boolean) => {
  const levels = filter.split('/');
  // MQTT 4.7.2: a filter starting with a wildcard does not match topics starting with `$`.
  const wildcardFirst = filter.startsWith('+') || filter.startsWith('#');
  return (topic) => {
    if (wildcardFirst && topic.startsWith('$')) return false;
    let start = 0; // where the topic's next level begins; past the end once every level is used
    for (const level of levels) {
      if (level === '#') return true;
      if (start > topic.length) return false;
      const slash = topic.indexOf('/', start);
      const end = slash < 0 ? topic.length : slash;
      if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false;
      start = end + 1;
    }
    return start > topic.length;
  };
};

/** True when `topic` matches the MQTT topic filter `filter` (`+` one level, `#` the rest). */
export const matchesFilter = (filter: string, topic: string): boolean => topicMatcher(filter)(topic);

/**
 * A test for the replies of one operation for one thing: the outcome when `topic` is one of them (what
 * {@link parseJobsTopic} would call a reply of `operation` for `thingName`), else `undefined`. Built once
 * per reply subscription; it reads the topic in place, as every reply runs it.
 */
export const replyOutcome = (operation: OperationName, thingName: ThingName): ((topic: string) => Outcome | undefined) => {
  const prefix = `${jobsPrefix(thingName)}/`;
  const suffix = opSuffix[operation];
  const scoped = jobScoped(operation);
  return (topic) => {
    if (!topic.startsWith(prefix)) return undefined;
    const last = topic.lastIndexOf('/');
    const outcome = topic.slice(last + 1);
    if (!isOutcome(outcome) || last < prefix.length) return undefined;
    const middle = topic.slice(prefix.length, last); // `get`, or `{jobId}/get`
    if (!scoped) return middle === suffix ? outcome : undefined;
    const slash = middle.indexOf('/');
    if (slash < 0 || middle.slice(slash + 1) !== suffix) return undefined;
    const jobId = asJobIdOrNext(middle.slice(0, slash));
    // `$next` is an alias for Describe only.
    return jobId === undefined || (jobId === '$next' && operation === 'updateJobExecution') ? undefined : outcome;
  };
};
