import { firstValueFrom } from 'rxjs';
import { type JobsClient, RejectedError } from '../../src';

/** 'ok', or the rejection code (and HTTP status) a GetPendingJobExecutions call ends with. */
export const pendingOutcome = async (jobs: JobsClient): Promise<string> => {
  try {
    await firstValueFrom(jobs.getPendingJobExecutions());
    return 'ok';
  } catch (error) {
    if (error instanceof RejectedError) return error.httpStatus === undefined ? error.code : `${error.code} ${String(error.httpStatus)}`;
    throw error;
  }
};
