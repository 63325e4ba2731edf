import type { RegistryEventDetail } from '../../../lambdas/contract/events.js';
import { formatTime, v } from './common.js';

/** One event a line: when, which model and version, what happened (and to which alias), who, why. */
export function eventLine(event: RegistryEventDetail): string {
  const alias = event.alias ? ` ${event.alias}` : '';
  return `${formatTime(event.at)}  ${event.model} ${v(event.version)}${alias}  ${event.type}  by ${event.actor}: ${event.reason}`;
}
