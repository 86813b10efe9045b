/** No secret in the TF_LOG=trace output of the examples of the 'tls-and-aws' share (see no-secrets-in-logs.ts). */
import { describeNoSecretsInLogs } from './no-secrets-in-logs';

describeNoSecretsInLogs('tls-and-aws');
