/**
 * One Powertools logger and one Metrics instance per cold start. The engine logs one JSON
 * line per decision with `schedule`, `runId`, `task`, `attempt` and `jobId` as top-level
 * keys, so a CloudWatch Logs Insights query can follow one run across functions.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The shared logger; `serviceName` comes from POWERTOOLS_SERVICE_NAME or defaults to batchron. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'batchron' });

/** Shared metrics (EMF lines in the log); flushed by each handler after an invocation. */
export const metrics = new Metrics({ namespace: 'Batchron', serviceName: 'batchron' });

/** What the engine needs from a logger; Powertools' Logger satisfies it, and so does a test sink. */
export interface EngineLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
  debug(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Names of the engine's counters. */
export type EngineMetric =
  | 'RunsStarted'
  | 'MissedFiresRecovered'
  | 'DeadlinesMet'
  | 'DeadlinesMissed'
  | 'DeadlinesMetLate'
  | 'RunsSkipped'
  | 'RunsSucceeded'
  | 'RunsFailed'
  | 'RunsCancelled'
  | 'DependencyWaitsExpired'
  | 'JobsSubmitted'
  | 'JobsAdopted'
  | 'Retries'
  | 'ThrottlesAbsorbed'
  | 'PacedWaits'
  | 'SubmissionsDeferred'
  | 'SubmissionsRefused'
  | 'VersionConflicts'
  | 'NotificationsSent'
  | 'NotificationsFailed'
  | 'SweepRepairs';

/** Counts one engine event. */
export interface EngineMetrics {
  count(name: EngineMetric, value?: number): void;
}

/** Metrics backed by Powertools (EMF); flushed by the handler. */
export const powertoolsMetrics: EngineMetrics = {
  count(name, value = 1) {
    metrics.addMetric(name, MetricUnit.Count, value);
  },
};
