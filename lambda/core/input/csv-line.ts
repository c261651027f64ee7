/**
 * A small RFC 4180 field splitter for one CSV line.
 *
 * fanout reads CSV line by line, so a record never spans lines: a quoted field holding a
 * line break is seen as an unterminated quote on its first line and reported as a
 * malformed row (and its continuation line as another bad row). URL lists do not need
 * multi-line fields, and this keeps every row tied to one physical line number.
 *
 * Leniency: a `"` inside an unquoted field is kept literally (`a"b` → `a"b`), as most CSV
 * writers and readers do; text between a closing quote and the next comma is malformed.
 */

const QUOTE = 34;
const COMMA = 44;

/** Splits one CSV line into its fields; null when the quoting is malformed. */
export function splitCsvLine(line: string): string[] | null {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q === -1) return null;
        value += line.slice(from, q);
        if (line.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return fields;
      if (line.charCodeAt(i) !== COMMA) return null;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
