import { csvCell } from './violation-export.service';

describe('csvCell', () => {
  it('leaves plain values alone and writes null as an empty cell', () => {
    expect(csvCell('rome-centro')).toBe('rome-centro');
    expect(csvCell(0.5)).toBe('0.5');
    expect(csvCell(null)).toBe('');
  });

  it('quotes commas, quotes and newlines (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });

  it.each(['=HYPERLINK("x")', '+1', '-1+2', '@SUM(A1)', '\tcmd'])('defuses a formula %j with a leading quote', (v) => {
    expect(csvCell(v).replace(/^"/, '')).toMatch(/^'/);
  });

  it('does not touch negative numbers given as numbers', () => {
    expect(csvCell(-1)).toBe('-1');
  });
});
