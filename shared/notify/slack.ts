/**
 * Slack delivery through an incoming webhook. The URL comes from SLACK_WEBHOOK_URL (local)
 * or from the SSM SecureString named by BATCHRON_SLACK_WEBHOOK_PARAMETER (read once per cold
 * start, with decryption); with neither, messages go to the log. The URL is a secret and
 * is never logged. A send times out after a few seconds: a Slack outage leaves the
 * notification pending for the sweeper, never a run blocked.
 */
import { IncomingWebhook } from '@slack/webhook';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { EngineLogger } from '../logger.ts';
import type { NotificationMessage } from './messages.ts';

/** Sends a notification; rejects when it was not delivered. */
export interface Notifier {
  send(message: NotificationMessage): Promise<void>;
}

/** Where the webhook URL comes from. */
export interface SlackSource {
  url?: string;
  parameterName?: string;
  ssm?: () => SSMClient;
  timeoutMs?: number;
  log: EngineLogger;
}

/** A notifier posting to Slack, or logging when no webhook is configured. */
export function slackNotifier(source: SlackSource): Notifier {
  let webhook: Promise<IncomingWebhook | undefined> | undefined;
  const resolve = async (): Promise<IncomingWebhook | undefined> => {
    let url = source.url;
    if (!url && source.parameterName && source.ssm) {
      const out = await source.ssm().send(new GetParameterCommand({ Name: source.parameterName, WithDecryption: true }));
      url = out.Parameter?.Value;
    }
    return url ? new IncomingWebhook(url, { timeout: source.timeoutMs ?? 3000 }) : undefined;
  };
  return {
    async send(message) {
      webhook ??= resolve().catch((error: unknown) => {
        // Forget the failed lookup so the next send asks SSM again.
        webhook = undefined;
        throw error;
      });
      const hook = await webhook;
      if (!hook) {
        source.log.warn('slack message (no webhook configured)', { notification: message.kind, schedule: message.schedule, runId: message.runId, text: message.text });
        return;
      }
      await hook.send({ text: message.text });
    },
  };
}
