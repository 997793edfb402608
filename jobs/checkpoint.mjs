// The checkpointed schedule's job: it runs with its own job role (serverless.yml,
// jobDefinitions.checkpoint.role), reads its checkpoint from Parameter Store, "processes"
// what came since, and writes the new checkpoint. The role allows that parameter only, so
// reading the Slack webhook's parameter must be refused: if it is not, the job fails, as
// the role would then grant more than it should. Locally the process gets the role's keys
// and AWS_ENDPOINT_URL from the stack; on AWS, the task role's credentials.
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

const checkpoint = process.env.CHECKPOINT_PARAMETER;
const notAllowed = process.env.NOT_ALLOWED_PARAMETER;
if (!checkpoint || !notAllowed) {
  console.error('checkpoint: CHECKPOINT_PARAMETER and NOT_ALLOWED_PARAMETER must be set');
  process.exit(2);
}
const ssm = new SSMClient({ maxAttempts: 2 });

let since = 'the beginning';
try {
  since = (await ssm.send(new GetParameterCommand({ Name: checkpoint }))).Parameter?.Value ?? since;
} catch (error) {
  if (error.name !== 'ParameterNotFound') throw error;
}
const now = new Date().toISOString();
console.log(`checkpoint: processing what came after ${since}`);
await ssm.send(new PutParameterCommand({ Name: checkpoint, Value: now, Type: 'String', Overwrite: true }));
console.log(`checkpoint: advanced to ${now}`);

try {
  await ssm.send(new GetParameterCommand({ Name: notAllowed, WithDecryption: true }));
  console.error(`checkpoint: the job role may read ${notAllowed}; it should allow its checkpoint only`);
  process.exit(1);
} catch (error) {
  if (error.name !== 'AccessDeniedException') throw error;
  console.log(`checkpoint: reading ${notAllowed} is refused (AccessDeniedException), as the job role intends`);
}
