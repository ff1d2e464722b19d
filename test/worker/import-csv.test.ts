import { describe, expect, it } from 'vitest';
import { csvField, csvRow, parseCsv } from '../../worker/src/lib/csv';
import { readImportRows, rowsPerChunk, scanImport, typedCell } from '../../worker/src/services/customer-import';

const file = (text: string) => [new TextEncoder().encode(text)];

const parse = (text: string) => [...parseCsv(text)];

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and counts physical lines', () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""","two\r\nlines"\r\nlast,,\r\n';
    expect(parse(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'two\r\nlines'] },
      { line: 4, fields: ['last', '', ''] },
    ]);
  });

  it('skips a BOM and blank lines, and takes LF, CRLF and lone CR breaks', () => {
    expect(parse('\uFEFFh1,h2\n\n1,2\r3,4\r\n\r\n5,6')).toEqual([
      { line: 1, fields: ['h1', 'h2'] },
      { line: 3, fields: ['1', '2'] },
      { line: 4, fields: ['3', '4'] },
      { line: 6, fields: ['5', '6'] },
    ]);
  });

  it('keeps a quote inside an unquoted field as a character, and an empty quoted field as empty', () => {
    expect(parse('5" screen,""\n')).toEqual([{ line: 1, fields: ['5" screen', ''] }]);
  });

  it('reports text after a closing quote as a malformed record and resumes on the next line', () => {
    const records = parse('h\n"ok"x,1\nnext\n');
    expect(records[1]).toEqual({ line: 2, error: 'unexpected text after the closing quote of field 1' });
    expect(records[2]).toEqual({ line: 3, fields: ['next'] });
  });

  it('reports a quote that never closes', () => {
    const records = parse('h\n"open\nstill open\n');
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ line: 2, error: expect.stringMatching(/never closed/) });
  });

  it('writes what it reads: quoting round-trips through the parser', () => {
    const values = ['plain', 'with, comma', 'with "quote"', 'multi\r\nline', '', ' spaced '];
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a"b')).toBe('"a""b"');
    expect(parse(csvRow(values))).toEqual([{ line: 1, fields: values }]);
  });
});

describe('import rows', () => {
  it('types metadata cells: numbers, booleans (any case), text otherwise', () => {
    expect(typedCell('42')).toBe(42);
    expect(typedCell('-3.25')).toBe(-3.25);
    expect(typedCell('true')).toBe(true);
    expect(typedCell('FALSE')).toBe(false);
    expect(typedCell('01234')).toBe('01234'); // a postal code keeps its zero
    expect(typedCell('12345678901234567890')).toBe('12345678901234567890'); // would lose precision
    expect(typedCell('1e5')).toBe('1e5');
    expect(typedCell('yes')).toBe('yes');
  });

  it('validates each row with the customers API rules and reports its row, the first data row being 1 (OA:L554)', () => {
    const csv = 'Source_id,Email,Birthdate\na,a@example.com,2000-01-31\nb,not-an-email,\nc,,2001-02-30\n';
    const scan = scanImport(file(csv));
    expect(scan).toMatchObject({ total: 3, valid: 1, failedCount: 2 });
    expect([...readImportRows(file(csv))].flatMap((r) => (r.write ? [r.write.record.source_id] : []))).toEqual(['a']);
    expect(scan.failed).toEqual([
      { row: 2, source_id: 'b', reason: 'email: must be an email address' },
      { row: 3, source_id: 'c', reason: 'birthdate: must be a calendar date in the format YYYY-MM-DD' },
    ]);
  });

  it('grows chunks with the number of auto-update segments, within bounds', () => {
    expect(rowsPerChunk(50_000, 0)).toBe(500);
    expect(rowsPerChunk(50_000, 5)).toBe(1_389);
    expect(rowsPerChunk(50_000, 100)).toBe(5_000);
    expect(rowsPerChunk(10, 3)).toBe(500);
  });
});
