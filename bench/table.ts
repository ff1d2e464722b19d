/** One line of the benchmark table `npm run bench` prints at the end. */
export interface BenchRow {
  area: string;
  measure: string;
  value: string;
}

export const formatCount = (n: number): string => Math.round(n).toLocaleString('en');
