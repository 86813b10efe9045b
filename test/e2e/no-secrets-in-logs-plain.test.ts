/** No secret in the TF_LOG=trace output of the examples of the 'plain' share (see no-secrets-in-logs.ts). */
import { describeNoSecretsInLogs } from './no-secrets-in-logs';

describeNoSecretsInLogs('plain');
