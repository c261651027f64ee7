import type { InputFormat } from '../../core/input/parse-input.js';
import type { JobView } from '../../core/job/job-view.js';
import type { JobOptions } from '../../core/job-options.js';
import { EXIT } from '../exit-codes.js';
import { noSuchJob, RemoteError } from './remote-error.js';
import { signedFetch } from './signing.js';
import type { Target } from './target.js';

/** A POST /jobs body. */
export interface ApiJobRequest {
  source: string;
  format?: InputFormat;
  options?: Partial<JobOptions>;
  jobId?: string;
}

/** The deployed jobs API (POST /jobs, GET and DELETE /jobs/{id}), every call signed with SigV4. */
export class JobsApi {
  private readonly base: URL;

  constructor(
    private readonly target: Target,
    apiUrl: string,
  ) {
    this.base = new URL(apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  }

  /** Submits a job; resolves to its id. */
  async submit(request: ApiJobRequest): Promise<string> {
    const res = await this.call('POST', 'jobs', JSON.stringify(request));
    return (res as { jobId: string }).jobId;
  }

  /** The job's state, progress and result locations. */
  get(jobId: string): Promise<JobView> {
    return this.call('GET', `jobs/${encodeURIComponent(jobId)}`, undefined, jobId) as Promise<JobView>;
  }

  /** Asks the job to stop; resolves to the job as it then stands. */
  cancel(jobId: string): Promise<JobView> {
    return this.call('DELETE', `jobs/${encodeURIComponent(jobId)}`, undefined, jobId) as Promise<JobView>;
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: string, jobId?: string) {
    const url = new URL(path, this.base);
    const res = await signedFetch(this.target, { method, url, ...(body !== undefined && { body }) }).catch(
      (err: Error) => {
        const cause = (err.cause as Error | undefined)?.message ?? err.message;
        throw new RemoteError(
          'API_UNREACHABLE',
          `cannot reach the jobs API at ${url}: ${cause}`,
          EXIT.FAILED,
        );
      },
    );
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok && parsed !== undefined) return parsed;
    throw this.refusal(res.status, parsed, text, jobId);
  }

  /** The API's answer as an error: its own {error: {code, message}}, or API Gateway's {message}. */
  private refusal(status: number, parsed: unknown, text: string, jobId?: string): RemoteError {
    const body = parsed as { error?: { code?: string; message?: string }; message?: string } | undefined;
    const code = body?.error?.code ?? `HTTP_${status}`;
    const message = body?.error?.message ?? body?.message ?? text.slice(0, 200);
    if (status === 404 && code === 'NOT_FOUND' && jobId)
      return noSuchJob(jobId, `the jobs API (${this.base})`);
    if (status === 403) {
      return new RemoteError(
        'FORBIDDEN',
        `the jobs API refused the signed request (403: ${message}); your identity needs execute-api:Invoke on ${this.base}`,
        EXIT.FAILED,
      );
    }
    const usage = status === 400 || status === 409 || status === 413;
    return new RemoteError(
      code,
      `the jobs API answered ${status}: ${message}`,
      usage ? EXIT.USAGE : EXIT.FAILED,
    );
  }
}
