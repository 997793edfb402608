/**
 * The CloudWatch Logs client, built once per cold start; endpoint from
 * `AWS_ENDPOINT_URL[_CLOUDWATCH_LOGS]`, so locally it reads the job log files through
 * local/logs.ts with the same calls it makes on AWS.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { credentials } from './credentials.ts';

export const logs = new CloudWatchLogsClient({ credentials });
