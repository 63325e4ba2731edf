import { ALIASES, type AliasName } from '../../../lambdas/core/registry/keys.js';

/** Small pieces every renderer uses: times, versions, metrics, trees. */

/** `accuracy=0.7900 rocAuc=0.8485 rows=500`: counts as integers, rates to four places. */
export function formatMetrics(metrics: Record<string, number> | undefined, separator = ' '): string {
  if (!metrics) return '-';
  return Object.entries(metrics)
    .map(([name, value]) => `${name}=${Number.isInteger(value) ? value : value.toFixed(4)}`)
    .join(separator);
}

/** `2026-01-02 03:04:05Z`: ISO time to the second, readable in a table. */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export const v = (version: number | null | undefined) => (version === null || version === undefined ? '-' : `v${version}`);
export const short = (sha: string) => sha.slice(0, 12);

/** The metrics worth a glance in a list: accuracy and ROC AUC, or RMSE and R². */
export function headlineMetrics(metrics: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!metrics) return undefined;
  const keys = metrics.rmse !== undefined ? ['rmse', 'r2'] : ['accuracy', 'rocAuc', 'f1'];
  return Object.fromEntries(keys.filter((k) => metrics[k] !== undefined).map((k) => [k, metrics[k]!]));
}

/** `production v3, candidate v5`, in ALIASES order. */
export function aliasList(aliases: Partial<Record<AliasName, number>>): string {
  const parts = ALIASES.filter((name) => aliases[name] !== undefined).map((name) => `${name} ${v(aliases[name])}`);
  return parts.length ? parts.join(', ') : 'no aliases';
}

/** A tree as indented lines, `├─`/`└─` before each child. */
export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

export function renderTree(root: TreeNode): string {
  const lines = [root.label];
  const walk = (children: TreeNode[], indent: string) => {
    children.forEach((child, index) => {
      const last = index === children.length - 1;
      lines.push(`${indent}${last ? '└─ ' : '├─ '}${child.label}`);
      walk(child.children ?? [], `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(root.children ?? [], '');
  return lines.join('\n');
}

/** What to type to decide a waiting approval; `--env` is named unless it is the default. */
export function decisionCommand(decision: 'approve' | 'reject', model: string, version: number | string, env: string): string {
  return `mlops${env === 'local' ? '' : ` --env ${env}`} ${decision} ${model} ${version} --reason "<why>"`;
}
