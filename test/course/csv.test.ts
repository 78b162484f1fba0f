import { csvCell, csvFileName, toCsv } from '../../src/web/course/csv.js';

describe('CSV of the instructor exports', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('Lovelace, Ada')).toBe('"Lovelace, Ada"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });

  it('keeps text a spreadsheet would run as a formula as text', () => {
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+33 1 23')).toBe("'+33 1 23");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('=HYPERLINK("x","y")')).toBe('"\'=HYPERLINK(""x"",""y"")"');
    // Numbers are values, not text: a negative number stays a number.
    expect(csvCell(-5)).toBe('-5');
  });

  it('writes dates, booleans and empties, CRLF line ends and a byte order mark', () => {
    expect(csvCell(new Date('2026-12-07T10:00:00Z'))).toBe('2026-12-07T10:00:00.000Z');
    expect(csvCell(true)).toBe('yes');
    expect(csvCell(null)).toBe('');
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('\uFEFFa,b\r\n1,"x,y"\r\n');
    expect(csvFileName('Quiz champion: été!', 'progress')).toBe('quiz-champion-ete-progress.csv');
  });
});
