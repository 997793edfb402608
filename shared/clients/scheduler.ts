/** The EventBridge Scheduler client, built once per cold start; endpoint from `AWS_ENDPOINT_URL[_SCHEDULER]`. */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { credentials } from './credentials.ts';

export const scheduler = new SchedulerClient({ credentials });
