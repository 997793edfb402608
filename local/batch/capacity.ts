/**
 * Placement of RUNNABLE jobs on compute environments, as Batch's scheduler does it in
 * spirit: queues by descending priority, FIFO inside a queue, each job on the first
 * compute environment in the queue's `computeEnvironmentOrder` that is ENABLED and has
 * the job's vCPUs free. A compute environment's capacity is its `maxvCpus` (one local
 * "host" that big); a job that does not fit waits RUNNABLE, and a smaller one behind it
 * may start meanwhile, as Batch backfills.
 */
import type { ComputeEnvironment, JobQueue, JobRecord } from './types.ts';

/** vCPUs a compute environment offers when it names none (unmanaged, or no computeResources). */
export const DEFAULT_CE_VCPUS = 256;

/** The local capacity of a compute environment, in vCPUs. */
export function capacityOf(ce: ComputeEnvironment): number {
  return ce.computeResources?.maxvCpus ?? ce.unmanagedvCpus ?? DEFAULT_CE_VCPUS;
}

export interface Placement {
  job: JobRecord;
  ce: ComputeEnvironment;
}

/**
 * Picks the RUNNABLE jobs that can start now and where.
 * @param used vCPUs held per compute environment name; updated in place for each placement
 */
export function place(
  runnable: JobRecord[],
  queues: JobQueue[],
  environments: Map<string, ComputeEnvironment>,
  used: Map<string, number>,
): Placement[] {
  const byQueue = new Map<string, JobRecord[]>();
  for (const job of runnable) {
    const list = byQueue.get(job.queueName) ?? [];
    list.push(job);
    byQueue.set(job.queueName, list);
  }
  const ordered = [...queues]
    .filter((q) => q.state === 'ENABLED' && byQueue.has(q.jobQueueName))
    .sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt);
  const placements: Placement[] = [];
  for (const queue of ordered) {
    const jobs = byQueue.get(queue.jobQueueName)!.sort(
      (a, b) => (b.detail.schedulingPriority ?? 0) - (a.detail.schedulingPriority ?? 0) || a.seq - b.seq,
    );
    const ces = [...queue.computeEnvironmentOrder]
      .sort((a, b) => a.order - b.order)
      .map((o) => environments.get(nameFromArn(o.computeEnvironment)))
      .filter((ce): ce is ComputeEnvironment => ce !== undefined && ce.state === 'ENABLED');
    for (const job of jobs) {
      const ce = ces.find((c) => capacityOf(c) - (used.get(c.computeEnvironmentName) ?? 0) >= job.vcpus);
      if (!ce) continue;
      used.set(ce.computeEnvironmentName, (used.get(ce.computeEnvironmentName) ?? 0) + job.vcpus);
      placements.push({ job, ce });
    }
  }
  return placements;
}

/** True when no compute environment of the queue could ever hold the job. */
export function neverFits(job: JobRecord, queue: JobQueue, environments: Map<string, ComputeEnvironment>): boolean {
  return !queue.computeEnvironmentOrder.some((o) => {
    const ce = environments.get(nameFromArn(o.computeEnvironment));
    return ce !== undefined && capacityOf(ce) >= job.vcpus;
  });
}

/** `arn:...:compute-environment/name` or `name` -> `name`. */
export function nameFromArn(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn;
  const slash = nameOrArn.indexOf('/');
  return slash >= 0 ? nameOrArn.slice(slash + 1) : nameOrArn;
}
