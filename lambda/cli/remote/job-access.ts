import { DynamoJobStore } from '../../adapters/aws/dynamo-job-store.js';
import { type JobView, toJobView } from '../../core/job/job-view.js';
import { EXIT } from '../exit-codes.js';
import { isFinal } from './job-view.js';
import { JobsApi } from './jobs-api.js';
import { noSuchJob, RemoteError } from './remote-error.js';
import type { Target } from './target.js';

/** Reading and cancelling jobs, through the API or straight on the job table. */
export interface JobAccess {
  /** The job; a RemoteError (exit 2) when there is none. */
  get(jobId: string): Promise<JobView>;
  /** Asks the job to stop; a RemoteError (exit 2) when it has already ended or does not exist. */
  cancel(jobId: string): Promise<JobView>;
}

/** The job table, read and updated directly (BatchGetItem; cancelRequested as the API sets it). */
class TableAccess implements JobAccess {
  private readonly jobs: DynamoJobStore;
  private readonly where: string;

  constructor(
    target: Target,
    tableName: string,
    private readonly bucket?: string,
  ) {
    this.jobs = new DynamoJobStore({ client: target.dynamodb, tableName });
    this.where = `table ${tableName}`;
  }

  async get(jobId: string): Promise<JobView> {
    const state = await this.jobs.get(jobId);
    if (!state) throw noSuchJob(jobId, this.where);
    return toJobView(state, { bucket: this.bucket });
  }

  async cancel(jobId: string): Promise<JobView> {
    const view = await this.get(jobId);
    if (isFinal(view)) {
      throw new RemoteError('JOB_FINISHED', `job ${jobId} has already ended (${view.status})`, EXIT.USAGE);
    }
    const state = await this.jobs.requestCancel(jobId);
    if (!state) throw noSuchJob(jobId, this.where);
    return toJobView(state, { bucket: this.bucket });
  }
}

/** The API when the target has one (it also hands out result links), else the job table. */
export async function jobAccess(target: Target): Promise<JobAccess> {
  const { api } = await target.resolve([], ['api']);
  if (api) return new JobsApi(target, api);
  const { table, bucket } = await target.resolve(['table'], ['bucket']);
  return new TableAccess(target, table, bucket);
}
