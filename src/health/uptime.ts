/** The old server's uptime format: `"<H>h<M>m"`. */
export function formatUptime(seconds: number): string {
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}
