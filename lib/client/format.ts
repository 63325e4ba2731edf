/** `accuracy=0.7900 rocAuc=0.8485 rows=500`: counts as integers, rates to four places. */
export function formatMetrics(metrics: Record<string, number> | undefined, separator = ' '): string {
  if (!metrics) return '-';
  return Object.entries(metrics)
    .map(([name, value]) => `${name}=${Number.isInteger(value) ? value : value.toFixed(4)}`)
    .join(separator);
}
