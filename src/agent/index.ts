/**
 * iot-jobs-rx/agent: the job runner (ARCHITECTURE.md §5): `runJobs`, the handler contract, AWS IoT Device
 * Client job documents, and the durable journal. A subpath of its own, so a device that only uses the
 * client never loads it.
 */
export { runJobs, type RunJobsOptions } from './run-jobs';
export type { ExecutionRef, RunnerEvent, RunnerEventKind } from './events';
export {
  checkpoint,
  defineHandler,
  failed,
  progress,
  succeeded,
  type DefineHandlerOptions,
  type HandlerDetails,
  type HandlerEvent,
  type HandlerOutcomeStatus,
  type JobContext,
  type JobHandler,
  type Match,
} from './handler';
export { deviceClientHandler, deviceClientHandlerName, type DeviceClientHandlerOptions } from './device-client-handler';
export { interruptedReason } from './runner/take';
export { firmwareUpdateHandler, firmwareUpdateHandlerName } from './firmware/handler';
export type { FirmwareUpdateOptions } from './firmware/options';
export { FirmwareUpdateDocument, FirmwareVersion, Sha256Hex, type FirmwareVersionBrand } from './firmware/document';
export {
  JournalError,
  memoryJournal,
  openJournal,
  type CompletedExecution,
  type Journal,
  type JournalOptions,
  type JournalRecovery,
  type JournalState,
  type OpenedJournal,
  type OutboxEntry,
  type RunningExecution,
} from './journal';
export { StepError, isStepError, type StepFailureReason } from './device-client/step-error';
export { createStatusDetailsEncoder, encodeStatusDetails, type EncodedStatusDetails, type StatusDetailsOptions } from './status-details';
export { coalesceProgress, heartbeat, type CoalesceProgressOptions, type HeartbeatOptions } from './coalesce';
export { classifyUpdateError, retryUpdate, type RetryUpdateOptions, type UpdateOutcome } from './retry-update';
