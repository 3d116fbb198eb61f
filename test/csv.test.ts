// CSV as users have it: a header, the target in any column, quoted fields, string categories
// (a string target label-encoded, a string feature one-hot), missing values refused with the line
// and column or imputed; and the layout saved so that new files are read the same way.
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../compiler/cli/csv.ts';

const text = [
  'height,"species, common name",colour,weight',
  '1.5,"cat, house",black,4',
  '2.5,dog,"white",',
  '3.5,"cat, house",white,6',
  '0.5,bird,black,8',
].join('\n');

describe('reading CSV files', () => {
  it('a string target anywhere is label-encoded; string features one-hot; quoted commas stay in the field', () => {
    const data = parseCsv(text, 'pets.csv', { target: 'species, common name', impute: true });
    expect(data.classNames).toEqual(['bird', 'cat, house', 'dog']);
    expect(Array.from(data.y)).toEqual([1, 2, 1, 0]);
    // height, colour=black, colour=white, weight (the missing weight imputed with the mean of 4, 6, 8).
    expect(data.features).toBe(4);
    expect(Array.from(data.x)).toEqual([1.5, 1, 0, 4, 2.5, 0, 1, 6, 3.5, 0, 1, 6, 0.5, 1, 0, 8]);
    expect(data.schema).toEqual({
      features: [
        { name: 'height', kind: 'number' },
        { name: 'colour', kind: 'category', categories: ['black', 'white'] },
        { name: 'weight', kind: 'number', fill: 6 },
      ],
      target: { name: 'species, common name', classes: ['bird', 'cat, house', 'dog'] },
    });
  });

  it('a missing value is refused with its line and column unless imputed; a bad --target names the columns', () => {
    expect(() => parseCsv(text, 'pets.csv', { target: '2' })).toThrow(/^pets\.csv:3: column 4 \(weight\) is empty, a missing value; fill them with --impute/);
    expect(() => parseCsv(text, 'pets.csv', { target: 'kind' })).toThrow(/--target kind: no such column in pets\.csv; the columns are height, species, common name, colour, weight/);
    expect(() => parseCsv('a,b\n1,2\n3\n', 'r.csv')).toThrow(/^r\.csv:3: 1 columns, expected 2 like line 2$/);
    expect(() => parseCsv('a,b\n1,"2\n', 'q.csv')).toThrow(/^q\.csv: .*quote/i);
  });

  it('with a saved layout: columns found by name in any order, the target optional, unknown categories refused', () => {
    const { schema } = parseCsv(text, 'pets.csv', { target: 'species, common name', impute: true });
    const shuffled = parseCsv('weight,colour,height\n5,white,1\nNA,black,2\n', 'new.csv', { schema });
    expect(shuffled.labelled).toBe(false);
    expect(Array.from(shuffled.x)).toEqual([1, 0, 1, 5, 2, 1, 0, 6]);
    expect(() => parseCsv('weight,colour,height\n5,green,1\n', 'new.csv', { schema })).toThrow(/new\.csv:2: column 2 \(colour\) is "green", a category the model was not trained with \(black, white\)/);
    const labelled = parseCsv('height,colour,weight,"species, common name"\n1,black,2,dog\n', 'l.csv', { schema });
    expect([labelled.labelled, Array.from(labelled.y)]).toEqual([true, [2]]);
  });

  it('scikit-learn layout (count line with class names), gzip-free numeric files as before', () => {
    const data = parseCsv('2,2,no,yes\n1,2,0\n3,4,1\n', 'sk.csv');
    expect([data.classNames, data.features, Array.from(data.y)]).toEqual([['no', 'yes'], 2, [0, 1]]);
    expect(() => parseCsv('3,2,no,yes\n1,2,0\n3,4,1\n', 'sk.csv')).toThrow(/the header says 3 rows, but 2 follow/);
  });
});
