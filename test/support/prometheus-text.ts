// Reading Prometheus text expositions (the sidecar's /metrics, Envoy's /stats/prometheus) in tests.

/** Sum of a metric's samples whose labels contain every `labels` entry (none: every sample of it). */
export function metricSum(text: string, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) || !labels.every((l) => line.includes(l))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
