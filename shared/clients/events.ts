/** The EventBridge client, built once per cold start; endpoint from `AWS_ENDPOINT_URL[_EVENTBRIDGE]`. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { credentials } from './credentials.ts';

export const events = new EventBridgeClient({ credentials });
