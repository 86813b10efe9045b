/** The bench's rows as the table lists them: what is timed, its floor, its target. */
import type { RowSpec } from '../report';

export function rowSpecs(members: number): Record<string, RowSpec> {
  const n = members.toLocaleString('en-US');
  return {
    pluginStart: { id: 'pluginStart', what: 'plugin start, installed executable to handshake line', floorWhat: '`node -e` printing a line', unit: 's', target: { maxRatio: 1.3 } },
    noopPlan: { id: 'noopPlan', what: 'no-op `terraform plan`, production example (8 resources)', floorWhat: 'plan of one `terraform_data`', unit: 's', target: { maxRatio: 5 } },
    apply: { id: 'apply', what: `\`terraform apply\`, group of ${n} members (1 endpoint)`, floorWhat: `psql 1 tx: ${n} CREATE ROLE + COMMENT`, unit: 's', target: { maxRatio: 1.5 } },
    planMany: { id: 'planMany', what: `\`terraform plan\` holding ${n} credentials`, floorWhat: 'the same plan holding 1', unit: 's', target: { maxRatio: 1.5 } },
    destroy: { id: 'destroy', what: `\`terraform destroy\` of those ${n}`, floorWhat: `psql 1 tx: ${n} DROP ROLE`, unit: 's', target: { maxRatio: 2 } },
    reapSessionEnd: { id: 'reapSessionEnd', what: 'open session ended after expiry, `reap --watch`', floorWhat: null, unit: 's', target: { max: 1 } },
    peakRss: { id: 'peakRss', what: `peak plugin RSS during the ${n}-member apply`, floorWhat: null, unit: 'MB', target: { max: members > 1000 ? 300 : 150 } },
    stateSize: { id: 'stateSize', what: `state file after the ${n}-member apply`, floorWhat: null, unit: 'KB', target: null },
  };
}
