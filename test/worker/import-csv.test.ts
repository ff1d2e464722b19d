import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CsvEncodingError,
  CsvParser,
  csvField,
  csvRow,
  decodeCsv,
  neutraliseFormula,
  parseCsv,
  restoreFormula,
} from '../../worker/src/lib/csv';
import { readImportRows, scanImport, typedCell } from '../../worker/src/services/customer-import-rows';

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

describe('reading piece by piece (the import never holds the file as one string)', () => {
  /** Feeds `pieces` to one parser, as the import does with each decoded chunk. */
  const parsePieces = (pieces: string[]) => {
    const parser = new CsvParser();
    return [...pieces.flatMap((p) => parser.push(p)), ...parser.end()];
  };
  /** `text` cut at the given positions. */
  const cut = (text: string, at: number[]) => {
    const points = [...new Set(at.map((a) => a % (text.length + 1)))].sort((a, b) => a - b);
    return [...points, text.length].map((end, i) => text.slice(i === 0 ? 0 : points[i - 1], end));
  };

  it('gives the same records however the text is cut (property-based, 500 cases)', () => {
    const csvText = fc
      .array(fc.constantFrom('a', 'é', ',', '"', '""', '\r', '\n', '\r\n', ' ', '😀'), { maxLength: 60 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(csvText, fc.array(fc.nat(), { maxLength: 8 }), (text, at) => {
        expect(parsePieces(cut(text, at))).toEqual(parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps one CRLF one line break when the CR ends a piece, inside quotes too', () => {
    expect(parsePieces(['a,"x\r', '\ny"\r', '\nb\r', '\n\r', '\nc'])).toEqual([
      { line: 1, fields: ['a', 'x\r\ny'] },
      { line: 3, fields: ['b'] },
      { line: 5, fields: ['c'] },
    ]);
  });

  it('decodes bytes cut anywhere: inside UTF-8 sequences, UTF-16 units and surrogate pairs', () => {
    const text = 'Source_id,Name\r\nz-1,Zoë 😀 Łódź\r\n"é,\r\nx",€\n';
    const utf8 = new TextEncoder().encode(`\uFEFF${text}`);
    const le = Uint8Array.from([
      0xff,
      0xfe,
      ...[...text].flatMap((ch) => [...Array(ch.length).keys()].flatMap((k) => [ch.charCodeAt(k) & 0xff, ch.charCodeAt(k) >> 8])),
    ]);
    const be = Uint8Array.from([
      0xfe,
      0xff,
      ...[...text].flatMap((ch) => [...Array(ch.length).keys()].flatMap((k) => [ch.charCodeAt(k) >> 8, ch.charCodeAt(k) & 0xff])),
    ]);
    for (const bytes of [utf8, le, be]) {
      for (const size of [1, 2, 3, 5, 7]) {
        const chunks = [...Array(Math.ceil(bytes.length / size)).keys()].map((i) => bytes.slice(i * size, (i + 1) * size));
        expect([...decodeCsv(chunks)].join('')).toBe(text);
      }
    }
  });

  it('yields the valid text before a bad byte, then throws; a U+FEFF inside the text is kept', () => {
    const pieces: string[] = [];
    const bad = [new TextEncoder().encode('ab\nc'), Uint8Array.from([0xff, 0x41])];
    expect(() => {
      for (const piece of decodeCsv(bad)) pieces.push(piece);
    }).toThrow(CsvEncodingError);
    expect(pieces.join('')).toBe('ab\nc');
    const bomInside = [new TextEncoder().encode('a'), new TextEncoder().encode('\uFEFFb')];
    expect([...decodeCsv(bomInside)].join('')).toBe('a\uFEFFb');
  });
});

describe('formula neutralisation', () => {
  it("prefixes = + - @ tab CR with ', not negative numbers, and restoreFormula undoes it for every string (property-based)", () => {
    expect(neutraliseFormula('=1+1')).toBe("'=1+1");
    expect(neutraliseFormula('@A1')).toBe("'@A1");
    expect(neutraliseFormula('\tx')).toBe("'\tx");
    expect(neutraliseFormula('-1')).toBe('-1');
    expect(neutraliseFormula('-1.5')).toBe('-1.5');
    expect(neutraliseFormula('-1e5')).toBe("'-1e5");
    expect(neutraliseFormula("'=x")).toBe("''=x");
    expect(neutraliseFormula("'x")).toBe("'x");
    expect(neutraliseFormula('plain')).toBe('plain');
    const value = fc.array(fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '1', 'a', '.'), { maxLength: 8 }).map((p) => p.join(''));
    fc.assert(
      fc.property(value, (v) => {
        expect(restoreFormula(neutraliseFormula(v))).toBe(v);
        expect(neutraliseFormula(v)).not.toMatch(/^[=+@\t\r]/);
      }),
      { numRuns: 1000 },
    );
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
});
