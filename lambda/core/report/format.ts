/** Number formats of the report: fixed locale, so a report reads the same wherever it was made. */

/**
 * 1234567 → "1,234,567"; 18593.4 → "18,593.4" (at most 3 decimals), as en-US writes
 * them. By hand: the first toLocaleString of a process starts ICU, which costs more
 * (about 12 ms) than writing every number of a report.
 */
export function count(value: number): string {
  if (!Number.isFinite(value)) return value.toLocaleString('en-US');
  const [whole = '0', fraction] = Math.abs(value).toFixed(3).split('.');
  const decimals = fraction?.replace(/0+$/, '') ?? '';
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  return `${sign}${grouped}${decimals ? `.${decimals}` : ''}`;
}

/** A share of a whole as "12.3%" ("0%" of nothing; "<0.1%" for a sliver). */
export function percent(part: number, whole: number): string {
  if (whole <= 0 || part <= 0) return '0%';
  const p = (part / whole) * 100;
  if (p < 0.1) return '<0.1%';
  if (part >= whole) return '100%';
  return `${Math.min(p, 99.9).toFixed(1)}%`;
}

/** A duration: "0.4 ms", "57 ms", "1.25 s", "3.2 min", "1.5 h"; "—" for none. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A bin edge on the histogram's axis: "0", "5", "200", "1s", "20s", "2m". */
export function edgeLabel(ms: number): string {
  if (ms < 1000) return String(ms);
  if (ms < 60_000) return `${ms / 1000}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}

/** Bytes in binary units: "512 B", "1.5 KiB", "3.2 GiB". */
export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = value;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? v : v.toFixed(1)} ${units[unit]}`;
}

/** An ISO time as "2026-11-25 22:02:11 UTC"; the input as it is when it does not parse. */
export function utc(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A count with its noun: "1 URL", "2 URLs", "1,000 invalid lines"; `many` when the plural is not noun + s. */
export function plural(value: number, one: string, many = `${one}s`): string {
  return `${count(value)} ${value === 1 ? one : many}`;
}
